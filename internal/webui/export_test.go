package webui_test

import (
	"crypto/sha256"
	"encoding/hex"
)

// hashOf is how the store keys a session token.
func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
