package explain

import (
	"strings"
	"unicode/utf8"
)

// A span is a piece of a line: jit's own words, or a value from outside
// (escaped when rendered), shown as text or as code.
type span struct {
	kind spanKind
	s    string
}

type spanKind int

const (
	litSpan    spanKind = iota // jit's own words, Markdown-free
	valueSpan                  // an outside value, as text
	codeSpan                   // an outside value, as code (logins, ids, paths)
	strongSpan                 // jit's own words, in bold
	breakSpan                  // a line break inside a table cell
)

func lit(s string) span     { return span{litSpan, s} }
func value(s string) span   { return span{valueSpan, s} }
func literal(s string) span { return span{codeSpan, s} }
func strong(s string) span  { return span{strongSpan, s} }

var lineBreak = span{kind: breakSpan}

// line is one line of text, a list item or a table cell.
type line []span

// words is a line of jit's own words.
func words(s string) line { return line{lit(s)} }

// A block is a heading, paragraph, bullet list or table.
type block struct {
	heading line
	para    line
	bullets []line
	head    []string
	rows    [][]line
}

func heading(l line) block       { return block{heading: l} }
func para(l line) block          { return block{para: l} }
func bullets(items []line) block { return block{bullets: items} }
func table(head []string, rows [][]line) block {
	return block{head: head, rows: rows}
}

// markdown renders blocks as GitHub Markdown, escaping every outside value.
func markdown(blocks []block) string {
	var b strings.Builder
	for _, bl := range blocks {
		switch {
		case bl.heading != nil:
			b.WriteString("### " + bl.heading.markdown() + "\n\n")
		case bl.para != nil:
			b.WriteString(bl.para.markdown() + "\n\n")
		case bl.bullets != nil:
			for _, it := range bl.bullets {
				b.WriteString("- " + it.markdown() + "\n")
			}
			b.WriteString("\n")
		case bl.head != nil:
			b.WriteString("|")
			for _, h := range bl.head {
				b.WriteString(" " + h + " |")
			}
			b.WriteString("\n|" + strings.Repeat("---|", len(bl.head)) + "\n")
			for _, row := range bl.rows {
				b.WriteString("|")
				for _, cell := range row {
					b.WriteString(" " + cell.markdown() + " |")
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func (l line) markdown() string {
	var b strings.Builder
	for _, s := range l {
		switch s.kind {
		case litSpan:
			b.WriteString(s.s)
		case valueSpan:
			b.WriteString(md(s.s))
		case codeSpan:
			b.WriteString(code(s.s))
		case strongSpan:
			b.WriteString("**" + s.s + "**")
		case breakSpan:
			b.WriteString("<br>")
		}
	}
	return b.String()
}

// text renders blocks as plain terminal text, indented by indent, with
// every outside value stripped of control characters and escapes.
func text(blocks []block, indent string) string {
	var b strings.Builder
	for _, bl := range blocks {
		switch {
		case bl.heading != nil:
			b.WriteString(indent + bl.heading.text() + ":\n")
		case bl.para != nil:
			b.WriteString(indent + bl.para.text() + "\n")
		case bl.bullets != nil:
			for _, it := range bl.bullets {
				b.WriteString(indent + "  - " + it.text() + "\n")
			}
		case bl.head != nil:
			b.WriteString(columns(bl.head, bl.rows, indent+"  "))
		}
	}
	return b.String()
}

func (l line) text() string {
	var b strings.Builder
	for _, s := range l {
		switch s.kind {
		case litSpan, strongSpan:
			b.WriteString(s.s)
		case valueSpan, codeSpan:
			b.WriteString(plain(s.s))
		case breakSpan:
			b.WriteString(" ")
		}
	}
	return b.String()
}

// columns lays a table out in aligned columns; the last column is not
// padded.
func columns(head []string, rows [][]line, indent string) string {
	cells := [][]string{head}
	for _, row := range rows {
		var r []string
		for _, c := range row {
			r = append(r, c.text())
		}
		cells = append(cells, r)
	}
	width := make([]int, len(head))
	for _, r := range cells {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	for _, r := range cells {
		b.WriteString(indent)
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2))
		}
		b.WriteString("\n")
	}
	return b.String()
}
