package credential

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// PayloadVersion is the version of the payload format Marshal writes and
// ParsePayload accepts.
const PayloadVersion = 1

// Payload is what a delivered credential holds once decrypted: everything
// the requester needs to connect. Its encoding (Marshal) is one JSON object:
//
//	{
//	  "version": 1,
//	  "grant": "prod/db/alice-inc-1234",
//	  "template": "postgres-role",
//	  "requester": "alice",
//	  "expires_at": "2026-05-01T14:00:00Z",
//	  "connection": {"database": "orders", "host": "db.internal", "port": "5432", "role": "jit_…"},
//	  "password": "…"
//	}
//
// "connection" holds the template's connection settings (for postgres-role:
// role, database, host, port), every value a string; which keys appear is
// the template's to say. Object keys are sorted, so equal payloads encode
// to equal bytes.
type Payload struct {
	Version    int               `json:"version"`
	Grant      string            `json:"grant"`
	Template   string            `json:"template"`
	Requester  string            `json:"requester"`
	ExpiresAt  string            `json:"expires_at"`
	Connection map[string]string `json:"connection"`
	Password   string            `json:"password"`
}

// Marshal encodes p (with Version set to PayloadVersion) after checking it
// as ParsePayload would.
func (p Payload) Marshal() ([]byte, error) {
	p.Version = PayloadVersion
	if p.Connection == nil {
		p.Connection = map[string]string{}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the credential: %w", err)
	}
	return append(b, '\n'), nil
}

// ParsePayload decodes a decrypted credential. It accepts exactly one JSON
// object of the current version with every field of Payload and no other,
// and string values that are valid UTF-8.
func ParsePayload(b []byte) (Payload, error) {
	if len(b) > MaxPlaintext {
		return Payload{}, fmt.Errorf("credential is %d bytes, more than %d", len(b), MaxPlaintext)
	}
	if !utf8.Valid(b) {
		return Payload{}, errors.New("credential is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var raw struct {
		Version    *int               `json:"version"`
		Grant      *string            `json:"grant"`
		Template   *string            `json:"template"`
		Requester  *string            `json:"requester"`
		ExpiresAt  *string            `json:"expires_at"`
		Connection *map[string]string `json:"connection"`
		Password   *string            `json:"password"`
	}
	if err := dec.Decode(&raw); err != nil {
		return Payload{}, fmt.Errorf("credential is not a jit credential (JSON object): %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Payload{}, errors.New("credential has data after its JSON object")
	}
	if raw.Version == nil || raw.Grant == nil || raw.Template == nil || raw.Requester == nil ||
		raw.ExpiresAt == nil || raw.Connection == nil || raw.Password == nil {
		return Payload{}, errors.New("credential lacks a field: want version, grant, template, requester, expires_at, connection and password")
	}
	p := Payload{Version: *raw.Version, Grant: *raw.Grant, Template: *raw.Template, Requester: *raw.Requester,
		ExpiresAt: *raw.ExpiresAt, Connection: *raw.Connection, Password: *raw.Password}
	if p.Version != PayloadVersion {
		return Payload{}, fmt.Errorf("credential version %d: this jit reads version %d; use the jit release that issued it", p.Version, PayloadVersion)
	}
	if p.Connection == nil {
		p.Connection = map[string]string{}
	}
	return p, p.check()
}

func (p Payload) check() error {
	switch {
	case p.Grant == "":
		return errors.New("credential names no grant")
	case p.Template == "":
		return errors.New("credential names no template")
	case p.Requester == "":
		return errors.New("credential names no requester")
	case p.Password == "":
		return errors.New("credential holds no password")
	}
	if _, err := time.Parse(time.RFC3339, p.ExpiresAt); err != nil || !isUTC(p.ExpiresAt) {
		return fmt.Errorf("credential expires_at %q is not an RFC 3339 UTC time such as 2026-05-01T14:00:00Z", p.ExpiresAt)
	}
	for k := range p.Connection {
		if k == "" {
			return errors.New("credential connection has an empty key")
		}
	}
	return nil
}

func isUTC(s string) bool { return len(s) > 0 && s[len(s)-1] == 'Z' }
