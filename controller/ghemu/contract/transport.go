package contract

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// NewTransport returns a RoundTripper that sends through base (nil means
// http.DefaultTransport) and checks every answer to a request under
// APIPrefix with (*REST).ValidateResponse, calling onError with the method,
// the URL and the error for each answer that breaks GitHub's contract (or
// when the description cannot be loaded). The caller still receives the
// response, its body unread. Tests typically pass
// func(m, u string, err error) { t.Errorf("%v", err) }.
func NewTransport(base http.RoundTripper, onError func(method, url string, err error)) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, onError: onError}
}

type transport struct {
	base    http.RoundTripper
	onError func(method, url string, err error)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || req.Method == http.MethodHead || !underAPI(req.URL.EscapedPath()) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		t.onError(req.Method, req.URL.String(), fmt.Errorf("%s %s: reading the answer to validate it: %w", req.Method, req.URL.Path, err))
		return resp, nil
	}
	rest, err := LoadREST()
	if err == nil {
		err = rest.ValidateResponse(req, resp.StatusCode, resp.Header, body)
	}
	if err != nil {
		t.onError(req.Method, req.URL.String(), err)
	}
	return resp, nil
}

func underAPI(path string) bool {
	return path == APIPrefix || strings.HasPrefix(path, APIPrefix+"/")
}
