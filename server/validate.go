// Argument checks shared by the ops and the admin routes.

package server

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/convo-sdk/convo/server/identifier"
	"github.com/convo-sdk/convo/wire"
)

func required(field, v string) error {
	if v == "" {
		return wire.Errorf(wire.CodeBadRequest, "%s is required", field)
	}
	return nil
}

func maxChars(field, v string, limit int) error {
	if n := utf8.RuneCountInString(v); n > limit {
		return wire.Errorf(wire.CodeTooLarge, "%s has %d characters; the limit is %d", field, n, limit)
	}
	return nil
}

// checkAttributes enforces the size limit and valid JSON; "null" means none.
func checkAttributes(field string, a wire.RawJSON, limit int) (wire.RawJSON, error) {
	if len(a) == 0 || string(a) == "null" {
		return nil, nil
	}
	if len(a) > limit {
		return nil, wire.Errorf(wire.CodeTooLarge, "%s are %d bytes of JSON; the limit is %d", field, len(a), limit)
	}
	if !json.Valid(a) {
		return nil, wire.Errorf(wire.CodeBadRequest, "%s must be valid JSON", field)
	}
	return a, nil
}

// checkIdentityArg checks an identity the request stores or acts as (a participant to add,
// an author, a user to create): within the length limit and meeting the identifier profile.
func checkIdentityArg(field, id string) error {
	if err := checkIdentityRef(field, id); err != nil {
		return err
	}
	if e := identifier.Check(field, id); e != nil {
		return e
	}
	return nil
}

// checkIdentityRef checks an identity the request only looks up. It does not apply the
// identifier profile, so records stored before the profile existed stay readable; no
// lookup by identity also takes a sid, so none can be confused with one.
func checkIdentityRef(field, id string) error {
	if id == "" {
		return wire.Errorf(wire.CodeBadRequest, "%s is required", field)
	}
	if err := maxChars(field, id, wire.MaxIdentityChars); err != nil {
		return err
	}
	if !utf8.ValidString(id) {
		return wire.Errorf(wire.CodeBadRequest, "%s is not valid UTF-8", field)
	}
	return nil
}

func pageSize(n, def int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > wire.MaxPageSize:
		return 0, wire.Errorf(wire.CodeBadRequest, "pageSize must be between 1 and %d, got %d", wire.MaxPageSize, n)
	}
	return n, nil
}

func checkAddress(field, v string) error {
	if err := required(field, v); err != nil {
		return err
	}
	if err := maxChars(field, v, wire.MaxAddressChars); err != nil {
		return err
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return wire.Errorf(wire.CodeBadRequest, "%s contains control characters", field)
	}
	return nil
}

func checkBody(body *string) error {
	if body != nil && len(*body) > wire.MaxMessageBodyBytes {
		return wire.Errorf(wire.CodeTooLarge, "body is %d bytes; the limit is %d", len(*body), wire.MaxMessageBodyBytes)
	}
	return nil
}

// checkNames checks a conversation's friendly and unique names, those that are set. An
// empty unique name means none (or, in an update, clears it).
func checkNames(friendlyName, uniqueName *string) error {
	if friendlyName != nil {
		if err := maxChars("friendlyName", *friendlyName, wire.MaxFriendlyNameChars); err != nil {
			return err
		}
	}
	if uniqueName != nil {
		return checkUniqueName(*uniqueName)
	}
	return nil
}

// checkUniqueName checks a unique name to store: within the length limit and, unless
// empty, meeting the identifier profile.
func checkUniqueName(name string) error {
	if err := maxChars("uniqueName", name, wire.MaxUniqueNameChars); err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	if e := identifier.Check("uniqueName", name); e != nil {
		return e
	}
	return nil
}

// checkAttributesChange is checkAttributes for an update: nil when a is absent (the
// attributes stay), {} for "null" (they are cleared).
func checkAttributesChange(field string, a wire.RawJSON, limit int) (wire.RawJSON, error) {
	if a == nil {
		return nil, nil
	}
	attrs, err := checkAttributes(field, a, limit)
	if err == nil && attrs == nil {
		attrs = wire.RawJSON(`{}`)
	}
	return attrs, err
}
