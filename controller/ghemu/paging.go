package ghemu

import (
	"strconv"
	"strings"
)

// Paging defaults, as on GitHub.
const (
	defaultPerPage = 30
	maxPerPage     = 100
)

// pageBounds reads page/per_page, sets the Link header GitHub sends for a
// list of total items, and returns the slice bounds of the requested page.
func (c *call) pageBounds(total int) (lo, hi int) {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = defaultPerPage
	}
	if per > maxPerPage {
		per = maxPerPage
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := (total + per - 1) / per
	if last < 1 {
		last = 1
	}
	var links []string
	at := func(n int, rel string) {
		q.Set("page", strconv.Itoa(n))
		links = append(links, "<"+c.s.URL+c.r.URL.Path+"?"+q.Encode()+`>; rel="`+rel+`"`)
	}
	if page > 1 {
		at(page-1, "prev")
	}
	if page < last {
		at(page+1, "next")
		at(last, "last")
	}
	if page > 1 {
		at(1, "first")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	// Compare by division: (page-1)*per overflows for absurd page values.
	if page-1 > total/per {
		lo = total
	} else {
		lo = min((page-1)*per, total)
	}
	hi = min(lo+per, total)
	return lo, hi
}

// paged returns the requested page of items (and sets Link).
func paged[T any](c *call, items []T) []T {
	lo, hi := c.pageBounds(len(items))
	out := items[lo:hi]
	if out == nil {
		out = []T{}
	}
	return out
}
