package ghemu

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

const (
	shaA = "1111111111111111111111111111111111111111"
	shaB = "2222222222222222222222222222222222222222"
)

func TestParsePushCommands(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []pushCommand
		err        string
	}{
		{"one command with capabilities", pkt(shaA+" "+shaB+" refs/heads/main\x00report-status side-band-64k\n") + "0000PACK",
			[]pushCommand{{shaA, shaB, "refs/heads/main"}}, ""},
		{"deletion and creation", pkt(zeroSHA+" "+shaB+" refs/heads/new\x00report-status\n") + pkt(shaA+" "+zeroSHA+" refs/heads/main\n") + "0000",
			[]pushCommand{{zeroSHA, shaB, "refs/heads/new"}, {shaA, zeroSHA, "refs/heads/main"}}, ""},
		{"shallow lines first", pkt("shallow "+shaA+"\n") + pkt(shaA+" "+shaB+" refs/heads/x\n") + "0000",
			[]pushCommand{{shaA, shaB, "refs/heads/x"}}, ""},
		{"no commands", "0000", nil, ""},
		{"push certificate", pkt("push-cert\x00report-status\n") + "0000", nil, `malformed pkt-line: "push-cert" is not a ref update command`},
		{"truncated", "00", nil, "malformed pkt-line: truncated length"},
		{"not hex", "zzzz", nil, `malformed pkt-line: length "zzzz" is not hex`},
		{"length past the end", "00ff" + shaA, nil, "malformed pkt-line: length 255 out of range"},
		{"uppercase sha", pkt(strings.ToUpper("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")+" "+shaB+" refs/heads/x\n") + "0000", nil,
			`malformed pkt-line: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2222222222222222222222222222222222222222 refs/heads/x" is not a ref update command`},
		{"no flush", pkt(shaA + " " + shaB + " refs/heads/x\n"), nil, "malformed pkt-line: truncated length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePushCommands([]byte(tc.body))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, errPktLine) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(pushCommand{})); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadPushBodyGzip(t *testing.T) {
	body := pkt(shaA+" "+shaB+" refs/heads/main\n") + "0000"
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(body))
	_ = zw.Close()
	raw, decoded, err := readPushBody(bytes.NewReader(zb.Bytes()), "gzip")
	if err != nil || !bytes.Equal(raw, zb.Bytes()) || string(decoded) != body {
		t.Errorf("readPushBody = %q, %q, %v; want the raw bytes and %q", raw, decoded, err, body)
	}
	if _, _, err := readPushBody(strings.NewReader("not gzip"), "gzip"); err == nil {
		t.Errorf("readPushBody of a corrupt gzip body: no error")
	}
}

// FuzzParsePushCommands checks the parser never panics and that every
// command it returns is well formed and re-encodes to a prefix of the input.
func FuzzParsePushCommands(f *testing.F) {
	f.Add([]byte(pkt(shaA+" "+shaB+" refs/heads/main\x00report-status\n") + "0000PACK"))
	f.Add([]byte(pkt("shallow "+shaA+"\n") + "0000"))
	f.Add([]byte("0000"))
	f.Add([]byte("0004"))
	f.Add([]byte("ffff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmds, err := parsePushCommands(body)
		if err != nil {
			if cmds != nil {
				t.Errorf("commands %v returned with error %v", cmds, err)
			}
			return
		}
		for _, c := range cmds {
			if !isHexSHA(c.old) || !isHexSHA(c.new) || !strings.HasPrefix(c.ref, "refs/") || strings.ContainsAny(c.ref, " \x00\n") {
				t.Errorf("malformed command %+v", c)
			}
			if !bytes.Contains(body, []byte(c.old+" "+c.new+" "+c.ref)) {
				t.Errorf("command %+v is not in the body", c)
			}
		}
	})
}
