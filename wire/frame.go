package wire

// Subprotocol is the WebSocket subprotocol both sides must agree on.
const Subprotocol = "convo.v1"

// Frame types.
const (
	TypeHello   = "hello"   // client → server, first frame: HelloData
	TypeWelcome = "welcome" // server → client, answer to hello: WelcomeData
	TypeRequest = "req"     // client → server: Op + Data, answered by a reply with the same ID
	TypeReply   = "res"     // server → client: Data or Error
	TypeEvent   = "event"   // server → client: Event + Offset + Data, part of the user's stream
	TypeSignal  = "signal"  // server → client: Event + Data, ephemeral (typing, presence): no offset, not replayed
	TypeBye     = "bye"     // server → client, just before the server closes: Error says why
)

// Frame is every message on the socket. Unused fields are omitted, so each frame type only
// carries what it needs; one struct keeps decoding to a single pass.
type Frame struct {
	Type   string  `json:"type"`
	ID     uint64  `json:"id,omitempty"`
	Op     string  `json:"op,omitempty"`
	Event  string  `json:"event,omitempty"`
	Offset uint64  `json:"offset,omitempty"`
	Data   RawJSON `json:"data,omitempty"`
	Error  *Error  `json:"error,omitempty"`
}

// MaxFrameBytes bounds one client frame (a request). It leaves room for the largest legal
// message (32 KB body + 4 KB attributes, JSON-escaped) and the framing around it.
const MaxFrameBytes = 256 << 10

// MaxServerFrameBytes bounds one server frame. Replies carry pages (30 messages of up to
// 32 KB, a conversation's 1000 participants with 4 KB attributes each), so they get more room
// than requests; the server never writes a larger frame.
const MaxServerFrameBytes = 16 << 20

// Encode marshals a frame.
func Encode(f *Frame) ([]byte, error) { return f.AppendJSON(nil), nil }

// Decode parses one frame and checks the fields its type requires.
func Decode(b []byte) (*Frame, error) {
	var f Frame
	if err := Unmarshal(b, &f); err != nil {
		return nil, Errorf(CodeBadFrame, "frame is not a JSON object: %v", err)
	}
	switch f.Type {
	case TypeHello, TypeWelcome, TypeBye:
	case TypeRequest:
		if f.ID == 0 || f.Op == "" {
			return nil, Errorf(CodeBadFrame, "request frame needs a non-zero id and an op")
		}
	case TypeReply:
		if f.ID == 0 {
			return nil, Errorf(CodeBadFrame, "reply frame needs a non-zero id")
		}
	case TypeEvent:
		if f.Event == "" || f.Offset == 0 {
			return nil, Errorf(CodeBadFrame, "event frame needs an event name and an offset")
		}
	case TypeSignal:
		if f.Event == "" {
			return nil, Errorf(CodeBadFrame, "signal frame needs an event name")
		}
	case "":
		return nil, Errorf(CodeBadFrame, "frame has no type")
	default:
		return nil, Errorf(CodeBadFrame, "unknown frame type %q", f.Type)
	}
	return &f, nil
}

// Request builds a request frame with Data marshalled from v.
func Request(id uint64, op string, v Encoder) (*Frame, error) {
	return &Frame{Type: TypeRequest, ID: id, Op: op, Data: marshalData(v)}, nil
}

// Reply builds a successful reply frame.
func Reply(id uint64, v Encoder) (*Frame, error) {
	return &Frame{Type: TypeReply, ID: id, Data: marshalData(v)}, nil
}

// ReplyError builds a failed reply frame.
func ReplyError(id uint64, e *Error) *Frame { return &Frame{Type: TypeReply, ID: id, Error: e} }

func marshalData(v Encoder) RawJSON {
	if v == nil {
		return nil
	}
	if raw, ok := v.(RawJSON); ok {
		return raw
	}
	return v.AppendJSON(nil)
}

// HelloData is the payload of the first client frame.
type HelloData struct {
	Token string `json:"token"`
	// Resume asks the server to replay the user's stream after Offset. Absent on a first
	// connect.
	Resume *Resume `json:"resume,omitempty"`
	// Client names the SDK and its version, for logs and metrics.
	Client string `json:"client,omitempty"`
}

// Resume names a position in a user's event stream.
type Resume struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// WelcomeData answers a valid hello.
type WelcomeData struct {
	Identity string `json:"identity"`
	// Epoch identifies the user's stream; offsets are comparable only within one epoch.
	Epoch string `json:"epoch"`
	// Offset is the newest offset in the stream when the server answered. Events after it
	// follow as event frames.
	Offset uint64 `json:"offset"`
	// Resumed is true when the server will replay every event after the requested offset.
	// False after a resume request means the gap cannot be replayed: the client must
	// resynchronise its state from requests and continue from Offset.
	Resumed bool `json:"resumed"`
	// User is the connected user's own record.
	User User `json:"user"`
	// TokenExpires is the token's expiry in Unix milliseconds, as the server read it.
	TokenExpires int64 `json:"tokenExpires,omitempty"`
}
