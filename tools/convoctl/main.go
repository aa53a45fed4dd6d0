// Command convoctl administers a convo server: it mints access tokens and drives the admin
// REST API (conversations, participants, messages, users, content templates), printing the
// server's JSON answers:
//
//	convoctl token --identity alice [--ttl 1h] [--url ws://host/v1/ws] [--key-id K --secret S]
//	CONVO_URL=http://127.0.0.1:8080 convoctl conversation create --friendly-name Support
//	convoctl participant add CH... --identity alice
//	convoctl message send CH... --author alice --body hello
//	convoctl backup --out convo-backup.db
//
// Without --key-id/--secret it uses the first key of CONVO_API_KEYS. Run it without
// arguments for every command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/convo-sdk/convo/server/auth"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "convoctl:", err)
		os.Exit(2)
	}
}

const usage = adminUsage

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "token":
		return token(args[1:], out)
	case "conversation", "conversations":
		return conversationCmd(args[1:], out)
	case "participant", "participants":
		return participantCmd(args[1:], out)
	case "message", "messages":
		return messageCmd(args[1:], out)
	case "user", "users":
		return userCmd(args[1:], out)
	case "template", "templates":
		return templateCmd(args[1:], out)
	case "backup":
		return backupCmd(args[1:], out)
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func token(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	keyID := fs.String("key-id", "", "API key id (default: first key of CONVO_API_KEYS)")
	secret := fs.String("secret", "", "API key secret")
	identity := fs.String("identity", "", "user identity (required)")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	url := fs.String("url", "", "server WebSocket URL put in the token, e.g. ws://127.0.0.1:8080/v1/ws")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *identity == "" {
		return errors.New("--identity is required")
	}
	var key auth.Key
	switch {
	case *keyID != "" && *secret != "":
		key = auth.Key{ID: *keyID, Secret: *secret}
	case *keyID != "" || *secret != "":
		return errors.New("--key-id and --secret go together")
	case os.Getenv("CONVO_API_KEYS") != "":
		kr, err := auth.ParseKeyring(os.Getenv("CONVO_API_KEYS"))
		if err != nil {
			return err
		}
		key = kr.Primary()
	default:
		return errors.New("give --key-id and --secret, or set CONVO_API_KEYS")
	}
	tok, err := auth.Mint(key, *identity, *ttl, *url)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, tok)
	return err
}
