package trailer

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EventKind is the value of Jit-Event: what happened to the grants.
type EventKind string

// The events jit records (the audit trail contract).
const (
	// Activated: terraform applied the grants (controller commit).
	Activated EventKind = "activated"
	// ActivationFailed: applying the grants failed (controller commit).
	ActivationFailed EventKind = "activation-failed"
	// Expire: the merge of the pull request deleting the grant files, at
	// expiry or on early revocation.
	Expire EventKind = "expire"
	// Revoked: terraform destroyed the grants (controller commit).
	Revoked EventKind = "revoked"
	// RevokeFailed: destroying the grants failed and will be retried
	// (controller commit).
	RevokeFailed EventKind = "revoke-failed"
	// BreakGlassReviewed: a break-glass grant was reviewed after the fact
	// (controller commit).
	BreakGlassReviewed EventKind = "break-glass-reviewed"
)

// ReasonExpired is the Jit-Reason of an expiry at the grant's end.
const ReasonExpired = "expired"

// ReasonRevokedBy returns the Jit-Reason of an early revocation by login,
// "revoked-by LOGIN".
func ReasonRevokedBy(login string) string { return "revoked-by " + login }

// MaxErrorLen bounds Jit-Error, in bytes; OneLine shortens to it.
const MaxErrorLen = 500

// Event is a signed record of something that happened to grants: a
// controller commit (Parent set) or the merge of an expiry pull request
// (Head set). Which fields a kind needs is in the table of EventFrom.
type Event struct {
	Kind EventKind
	// Grants are the grant ids concerned (Jit-Grant each).
	Grants []string
	// Reason says why an Expire happens (Jit-Reason): ReasonExpired or
	// ReasonRevokedBy(login).
	Reason string
	// ReviewedBy are the logins who reviewed a break-glass grant
	// (Jit-Reviewed-By each).
	ReviewedBy []string
	// Resources are the terraform addresses applied or destroyed, for all
	// of Grants together (Jit-Resources each, one address per trailer, since
	// an address may hold spaces).
	Resources []string
	// ExpiresAt is when the activated access ends (Jit-Expires-At); whole
	// seconds.
	ExpiresAt time.Time
	// Error is what went wrong, on one line (Jit-Error); see OneLine.
	Error string
	// Head is the expiry pull request's head, the merge's second parent
	// (Jit-Head).
	Head string
	// Parent is a controller commit's own parent (Jit-Parent), so that its
	// signed message cannot be replayed elsewhere.
	Parent string
}

// EventOrder is the order in which an Event's trailers are written, and the
// only order EventFrom accepts; Jit-Signature follows the last.
var EventOrder = orderOf(eventFields)

var eventFields = []field{
	{key: KeyEvent, check: checkKind},
	{key: KeyGrant, multi: true, check: checkGrantID},
	{key: KeyReason, check: checkReason},
	{key: KeyReviewedBy, multi: true, fold: true, check: checkLogin},
	{key: KeyResources, multi: true, check: checkAny},
	{key: KeyExpiresAt, check: checkTime},
	{key: KeyError, check: checkError},
	{key: KeyHead, check: checkSHA},
	{key: KeyParent, check: checkSHA},
}

type presence uint8

const (
	forbidden presence = iota
	optionalField
	required
)

// eventPresence says, per kind, which keys besides Jit-Event are required
// or optional; all others are forbidden.
var eventPresence = map[EventKind]map[string]presence{
	Activated:          {KeyGrant: required, KeyResources: optionalField, KeyExpiresAt: required, KeyParent: required},
	ActivationFailed:   {KeyGrant: required, KeyResources: optionalField, KeyExpiresAt: required, KeyError: required, KeyParent: required},
	Expire:             {KeyGrant: required, KeyReason: required, KeyHead: required},
	Revoked:            {KeyGrant: required, KeyResources: optionalField, KeyParent: required},
	RevokeFailed:       {KeyGrant: required, KeyResources: optionalField, KeyError: required, KeyParent: required},
	BreakGlassReviewed: {KeyGrant: required, KeyReviewedBy: required, KeyParent: required},
}

func checkKind(v string) string {
	if _, ok := eventPresence[EventKind(v)]; !ok {
		return "not an event jit records (activated, activation-failed, expire, revoked, revoke-failed, break-glass-reviewed)"
	}
	return ""
}

func checkReason(v string) string {
	if v == ReasonExpired {
		return ""
	}
	if login, ok := strings.CutPrefix(v, ReasonRevokedBy("")); ok && checkLogin(login) == "" {
		return ""
	}
	return "write expired or revoked-by LOGIN"
}

func checkError(v string) string {
	if len(v) > MaxErrorLen {
		return fmt.Sprintf("%d bytes; at most %d (shorten it with OneLine)", len(v), MaxErrorLen)
	}
	return ""
}

// Trailers returns e's trailers, unsigned, in EventOrder, after checking that
// EventFrom reads them back to e. The error matches ErrMalformed.
func (e Event) Trailers() ([]Trailer, error) {
	var p problems
	checkWholeSecond(e.ExpiresAt, &p)
	if err := p.err("event"); err != nil {
		return nil, err
	}
	ts := emit(eventFields, map[string][]string{
		KeyEvent:      optional(string(e.Kind)),
		KeyGrant:      e.Grants,
		KeyReason:     optional(e.Reason),
		KeyReviewedBy: e.ReviewedBy,
		KeyResources:  e.Resources,
		KeyExpiresAt:  optional(formatTime(e.ExpiresAt)),
		KeyError:      optional(e.Error),
		KeyHead:       optional(e.Head),
		KeyParent:     optional(e.Parent),
	})
	if _, err := EventFrom(ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// EventFrom reads an Event from trailers as Parse returns them (a final
// Jit-Signature is skipped; verify it first with Verify). Per kind it
// requires (+: one or more) and allows (?) these trailers, and no others:
//
//	activated             Jit-Grant+ Jit-Resources? Jit-Expires-At Jit-Parent
//	activation-failed     Jit-Grant+ Jit-Resources? Jit-Expires-At Jit-Error Jit-Parent
//	expire                Jit-Grant+ Jit-Reason Jit-Head
//	revoked               Jit-Grant+ Jit-Resources? Jit-Parent
//	revoke-failed         Jit-Grant+ Jit-Resources? Jit-Error Jit-Parent
//	break-glass-reviewed  Jit-Grant+ Jit-Reviewed-By+ Jit-Parent
//
// It accepts only what Trailers writes, so (EventFrom(ts)).Trailers()
// returns ts without its signature. The error matches ErrMalformed and lists
// every problem.
func EventFrom(ts []Trailer) (Event, error) {
	var p problems
	vals := group(ts, eventFields, &p)
	e := Event{
		Kind:       EventKind(one(vals, KeyEvent)),
		Grants:     vals[KeyGrant],
		Reason:     one(vals, KeyReason),
		ReviewedBy: vals[KeyReviewedBy],
		Resources:  vals[KeyResources],
		Error:      one(vals, KeyError),
		Head:       one(vals, KeyHead),
		Parent:     one(vals, KeyParent),
	}
	e.ExpiresAt, _ = parseTime(one(vals, KeyExpiresAt))
	if rules, ok := eventPresence[e.Kind]; ok {
		for _, f := range eventFields[1:] {
			switch n := len(vals[f.key]); {
			case rules[f.key] == required && n == 0:
				p.add("no %s; %s events need one", f.key, e.Kind)
			case rules[f.key] == forbidden && n > 0:
				p.add("%s does not belong in %s events", f.key, e.Kind)
			}
		}
	} else if !slices.ContainsFunc(ts, func(t Trailer) bool { return t.Key == KeyEvent }) {
		p.add("no %s", KeyEvent)
	}
	if err := p.err("event"); err != nil {
		return Event{}, err
	}
	return e, nil
}

// OneLine turns an error message of any shape into a Jit-Error value: every
// run of white space, control and formatting characters becomes one space,
// invalid UTF-8 becomes U+FFFD, the ends are trimmed and the result is cut
// to MaxErrorLen bytes (ending in "…" when cut). It returns "" only for a
// message with nothing printable.
func OneLine(msg string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(msg, "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) <= MaxErrorLen {
		return s
	}
	const ellipsis = "…"
	cut := MaxErrorLen - len(ellipsis)
	for !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + ellipsis
}
