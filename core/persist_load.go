package core

import (
	"bytes"
	"strconv"

	"github.com/convo-sdk/convo/wire"
)

// storedState is what loadState read: one moment of an earlier client's state.
type storedState struct {
	pos   streamPos
	me    wire.User
	convs []storedConversation
	users []wire.User
}

type storedConversation struct {
	data         wire.Conversation
	streamLast   *int64
	participants []wire.Participant
}

// loadState reads the state an earlier client stored, and notes it as written so the first
// batch writes only what changed. It returns nil when there is none, or when it cannot be
// read whole: then the client starts as if there were none, and overwrites it.
func (c *Client) loadState() *storedState {
	st := c.opts.Store
	var s storedState
	var havePos bool
	bad := func(what string, err error) error {
		return wire.Errorf(wire.CodeInternal, "%s: %v", what, err)
	}
	format := 0
	err := st.Scan(stateBucket, func(key string, v []byte) error {
		switch key {
		case "format":
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return bad("the state's format", err)
			}
			format = n
		case "pos":
			epoch, off, ok := bytes.Cut(v, []byte{'\n'})
			n, err := strconv.ParseUint(string(off), 10, 64)
			if !ok || err != nil {
				return bad("the stream position", err)
			}
			s.pos, havePos = streamPos{epoch: string(epoch), offset: n}, true
		case "me":
			if err := wire.Unmarshal(v, &s.me); err != nil {
				return bad("the signed-in user", err)
			}
		}
		return nil
	})
	if err == nil && format > stateFormat {
		c.opts.Logf("convo: the local store's state was written by a newer convo (format %d, this one reads %d); it is left as it is and the client keeps its state in memory", format, stateFormat)
		c.mu.Lock()
		if c.persist != nil {
			c.persist.off = true
		}
		c.mu.Unlock()
		return nil
	}
	if err == nil && !havePos {
		return nil
	}
	byConv := map[string]*storedConversation{}
	if err == nil {
		err = st.Scan(convBucket, func(key string, v []byte) error {
			last, body, ok := bytes.Cut(v, []byte{'\n'})
			sc := &storedConversation{}
			if !ok {
				return bad("conversation "+key, nil)
			}
			if string(last) != "-" {
				n, err := strconv.ParseInt(string(last), 10, 64)
				if err != nil {
					return bad("conversation "+key, err)
				}
				sc.streamLast = &n
			}
			if err := wire.Unmarshal(body, &sc.data); err != nil || sc.data.Sid != key {
				return bad("conversation "+key, err)
			}
			byConv[key] = sc
			s.convs = append(s.convs, *sc)
			return nil
		})
	}
	if err == nil {
		err = st.Scan(partBucket, func(key string, v []byte) error {
			var d wire.Participant
			if err := wire.Unmarshal(v, &d); err != nil {
				return bad("participant "+key, err)
			}
			if sc := byConv[d.ConversationSid]; sc != nil {
				sc.participants = append(sc.participants, d)
			}
			return nil
		})
	}
	if err == nil {
		err = st.Scan(userBucket, func(key string, v []byte) error {
			var d wire.User
			if err := wire.Unmarshal(v, &d); err != nil {
				return bad("user "+key, err)
			}
			s.users = append(s.users, d)
			return nil
		})
	}
	if err != nil {
		c.opts.Logf("convo: the local store's state cannot be read (%v); it is discarded and the client starts from the server", err)
		if c.persisting() {
			c.discardState()
		}
		return nil
	}
	for i := range s.convs {
		s.convs[i] = *byConv[s.convs[i].data.Sid]
	}
	return &s
}

// loadMessages reads the stored messages of the conversations in s, which restoreMessages
// puts in place after initialized: the server's start does not load messages either, so the
// app's list is ready as soon. An unreadable message is skipped with a warning.
func (c *Client) loadMessages(s *storedState) map[string][]wire.Message {
	known := make(map[string]bool, len(s.convs))
	for _, sc := range s.convs {
		known[sc.data.Sid] = true
	}
	out := make(map[string][]wire.Message, len(s.convs))
	err := c.opts.Store.Scan(msgBucket, func(key string, v []byte) error {
		var d wire.Message
		if err := wire.Unmarshal(v, &d); err != nil {
			c.opts.Logf("convo: the local store's message %s cannot be read (%v); it is skipped", key, err)
			return nil
		}
		if known[d.ConversationSid] {
			out[d.ConversationSid] = append(out[d.ConversationSid], d)
		}
		return nil
	})
	if err != nil {
		c.opts.Logf("convo: the local store's messages cannot be read (%v); the conversations start without them", err)
	}
	return out
}

// restoreMessages puts the stored messages in place, as history (announced by the earlier
// client). It runs on the event goroutine, before the first connection's events.
func (c *Client) restoreMessages(msgs map[string][]wire.Message) {
	for sid, list := range msgs {
		conv := c.conversation(sid)
		if conv == nil {
			continue
		}
		for _, m := range list {
			msg, _ := conv.upsertMessageLocked(m)
			c.mu.Lock()
			msg.announced = true
			c.mu.Unlock()
		}
	}
	if c.persisting() {
		c.onWriter(func(h *storeHeld) {
			for sid, list := range msgs {
				held := &heldMessages{}
				for _, d := range list { // scanned in key order: ascending index
					held.index = append(held.index, d.Index)
					held.hash = append(held.hash, hashBytes(d.AppendJSON(nil)))
				}
				h.convMsgs[sid] = held
			}
		})
	}
}

// discardState deletes the stored state (not the outbox).
func (c *Client) discardState() {
	var batch []StoreChange
	for _, bucket := range []string{stateBucket, convBucket, partBucket, msgBucket, userBucket} {
		err := c.opts.Store.Scan(bucket, func(key string, _ []byte) error {
			batch = append(batch, StoreChange{Bucket: bucket, Key: key})
			return nil
		})
		if err != nil {
			c.opts.Logf("convo: the local store cannot be read: %v", err)
		}
	}
	c.onWriter(func(*storeHeld) { c.apply(batch) })
}

// restoreState puts a stored state in place and announces it as an initialisation from the
// server would: the signed-in user, initialized, then each conversation. It runs on the event
// goroutine, before the first connection's events; connectionState is still "connecting".
func (c *Client) restoreState(s *storedState) {
	if c.initialised() {
		return
	}
	convs := make([]*Conversation, 0, len(s.convs))
	for _, sc := range s.convs {
		conv, _ := c.upsertConversation(sc.data)
		c.mu.Lock()
		conv.streamLast = sc.streamLast
		c.mu.Unlock()
		for _, p := range sc.participants {
			conv.upsertParticipant(p)
		}
		convs = append(convs, conv)
	}
	c.mu.Lock()
	if s.me.Identity == c.claims.Identity {
		c.user.data = s.me
	}
	for _, d := range s.users {
		if d.Identity == "" || d.Identity == c.claims.Identity || c.users[d.Identity] != nil {
			continue
		}
		u := newUser(c, d)
		u.subscribed = true
		c.users[d.Identity] = u
		c.subscriptions = append(c.subscriptions, u)
	}
	if p := c.persist; p != nil {
		p.at, p.atSet = s.pos, true
	}
	c.mu.Unlock()
	if c.persisting() {
		c.onWriter(func(h *storeHeld) { markStored(h, s) })
	}
	sortByCreation(convs)
	c.announceOwnUser()
	for _, u := range c.subscriptions {
		EventUserSubscribed.emit(c.emitter, u)
	}
	c.succeedInit()
	for _, conv := range convs {
		c.announceConversation(conv)
	}
}

// markStored records in h what the store holds after loading s, so the first flush writes
// only what changed since (restoreMessages adds the messages).
func markStored(h *storeHeld, s *storedState) {
	for _, sc := range s.convs {
		h.convRec[sc.data.Sid] = hashBytes(encodeConversationRecord(sc.streamLast, sc.data))
		parts := make(map[string]uint64, len(sc.participants))
		for _, d := range sc.participants {
			parts[d.Sid] = hashBytes(d.AppendJSON(nil))
		}
		h.convParts[sc.data.Sid] = parts
	}
	for i, d := range s.users {
		h.users[padded(uint64(i))] = hashBytes(d.AppendJSON(nil))
	}
	h.me = hashBytes(s.me.AppendJSON(nil))
	h.pos = s.pos.epoch + "\n" + strconv.FormatUint(s.pos.offset, 10)
}

// StoreScope is whose state this client's store holds: its server and identity.
func (c *Client) StoreScope() StoreScope {
	return StoreScope{Server: c.serverURL(), Identity: c.claims.Identity}
}

// UseStore sets Options.Store after New, for bindings that open the store asynchronously
// (a browser's IndexedDB); it must be called before Start, and does nothing after.
func (c *Client) UseStore(st LocalStore) {
	if !c.started.Load() {
		c.opts.Store = st
	}
}
