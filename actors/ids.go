package actors

import (
	"strings"

	"github.com/google/uuid"
)

// newID returns the id of a new object: the caller's UUID in lower case,
// or a fresh one when the caller gave none. field names the request field
// for the error message.
func newID(field, want string) (string, error) {
	if want == "" {
		return uuid.NewString(), nil
	}
	id, ok := canonicalID(want)
	if !ok {
		return "", invalid("%s %q is not a UUID like 5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10", field, clip(want))
	}
	if id == uuid.Nil.String() {
		return "", invalid("%s must not be the nil UUID", field)
	}
	return id, nil
}

// canonicalID returns s in lower case if it is a UUID in its 36-character
// form: ids are compared case-insensitively and stored in lower case.
func canonicalID(s string) (string, bool) {
	if len(s) != 36 || uuid.Validate(s) != nil {
		return "", false
	}
	return strings.ToLower(s), true
}
