package credential

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// SCRAMIterations is the PBKDF2 iteration count of verifiers made by
// SCRAMVerifier: PostgreSQL's default (scram_iterations = 4096).
const SCRAMIterations = 4096

// scramSaltBytes is the salt length PostgreSQL itself uses.
const scramSaltBytes = 16

// SCRAMVerifier returns a SCRAM-SHA-256 verifier for password with a fresh
// random 16-byte salt and SCRAMIterations iterations, in the format PostgreSQL
// stores in pg_authid.rolpassword and accepts in CREATE/ALTER ROLE … PASSWORD:
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//
// The password must be non-empty printable ASCII: for such strings
// PostgreSQL's SASLprep normalisation is the identity, so the verifier
// matches what the server derives at login. Other passwords are rejected
// rather than risk a verifier that never matches.
func SCRAMVerifier(password string) (string, error) {
	if err := checkSCRAMPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, scramSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading random bytes for a SCRAM salt: %w", err)
	}
	return SCRAMVerifierWithSalt(password, salt, SCRAMIterations), nil
}

func checkSCRAMPassword(password string) error {
	if password == "" {
		return errors.New("the password is empty; PostgreSQL refuses empty passwords")
	}
	for i := 0; i < len(password); i++ {
		if c := password[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("the password has byte 0x%02x at offset %d, outside printable ASCII; SASLprep is not implemented, so use NewPassword's alphabet", c, i)
		}
	}
	return nil
}

// SCRAMVerifierWithSalt is SCRAMVerifier with a given salt and iteration
// count: the same inputs always give the same verifier (RFC 5802 section 3 with
// SHA-256, as in RFC 7677). It does not check the password; iterations below
// 1 count as 1.
func SCRAMVerifierWithSalt(password string, salt []byte, iterations int) string {
	storedKey, serverKey := scramKeys(password, salt, iterations)
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(max(iterations, 1)) + ":" + b64(salt) + "$" + b64(storedKey) + ":" + b64(serverKey)
}

// scramKeys derives StoredKey and ServerKey from a password (RFC 5802 section 3).
func scramKeys(password string, salt []byte, iterations int) (storedKey, serverKey []byte) {
	salted := saltedPassword(password, salt, iterations)
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	sum := sha256.Sum256(clientKey)
	return sum[:], hmacSHA256(salted, []byte("Server Key"))
}

// saltedPassword is Hi() of RFC 5802: PBKDF2-HMAC-SHA-256 producing one
// 32-byte block (the output length equals the hash length, so block 1 only).
func saltedPassword(password string, salt []byte, iterations int) []byte {
	mac := hmac.New(sha256.New, []byte(password))
	mac.Write(salt)
	mac.Write(binary.BigEndian.AppendUint32(nil, 1))
	u := mac.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iterations; i++ {
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}

func hmacSHA256(key, msg []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	return mac.Sum(nil)
}
