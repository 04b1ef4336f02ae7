package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// StateFormatVersion is the version of terraform's state format that
// ParseState reads: the one terraform 0.12 and later write, to their
// backends and on `terraform state pull`.
const StateFormatVersion = 4

// ParseState parses raw, a workspace's state in terraform's JSON state
// format as `terraform state pull` prints it and as the state backends
// store it. Empty or blank input is an empty state (terraform's "no state
// yet"). The returned Outputs is never nil. Resources lists the managed
// resources (data sources are left out) in the state's order, each tainted
// when any of its instances is.
//
// A state that is not JSON, not an object, or of a format version other
// than StateFormatVersion is an error. Errors never quote the state: it
// holds sensitive values.
func ParseState(raw []byte) (State, error) {
	st := State{Outputs: map[string]json.RawMessage{}}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return st, nil
	}
	if raw[0] != '{' {
		return State{}, fmt.Errorf("the state is not a JSON object: check that it was written by terraform")
	}
	var doc struct {
		Version *int `json:"version"`
		Outputs map[string]struct {
			Value json.RawMessage `json:"value"`
		} `json:"outputs"`
		Resources []struct {
			Module    string `json:"module"`
			Mode      string `json:"mode"`
			Type      string `json:"type"`
			Name      string `json:"name"`
			Instances []struct {
				Status string `json:"status"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return State{}, fmt.Errorf("the state is not terraform's JSON state format: %w", err)
	}
	if doc.Version == nil || *doc.Version != StateFormatVersion {
		v := "none"
		if doc.Version != nil {
			v = fmt.Sprint(*doc.Version)
		}
		return State{}, fmt.Errorf("the state's format version is %s, want %d: run a terraform command on the workspace so that terraform upgrades it", v, StateFormatVersion)
	}
	for k, v := range doc.Outputs {
		st.Outputs[k] = v.Value
	}
	for _, res := range doc.Resources {
		if res.Mode != "managed" {
			continue
		}
		addr := res.Type + "." + res.Name
		if res.Module != "" {
			addr = res.Module + "." + addr
		}
		tainted := false
		for _, in := range res.Instances {
			tainted = tainted || in.Status == "tainted"
		}
		st.Resources = append(st.Resources, Resource{Address: addr, Tainted: tainted})
	}
	return st, nil
}
