package api

import (
	"html"
	"html/template"
	"strings"
)

// renderMarkdown turns the small subset of Markdown the OpenAPI document's
// descriptions use into HTML: paragraphs, "- " lists, `code`, **bold**
// and [links](url). Everything else is escaped, so a description can
// never inject markup into /docs; links go only to http(s) URLs or to
// paths and anchors of this server.
func renderMarkdown(src string) template.HTML {
	var b strings.Builder
	var para []string // the lines of the paragraph being read
	var items []string
	inList := false
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + renderInline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	flushList := func() {
		if inList {
			b.WriteString("<ul>")
			for _, it := range items {
				b.WriteString("<li>" + renderInline(it) + "</li>")
			}
			b.WriteString("</ul>\n")
			items, inList = nil, false
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flushPara()
			flushList()
		case strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "* "):
			flushPara()
			inList = true
			items = append(items, strings.TrimSpace(trimmed[2:]))
		case inList && line != trimmed:
			// An indented line continues the list item above it.
			items[len(items)-1] += " " + trimmed
		default:
			flushList()
			para = append(para, trimmed)
		}
	}
	flushPara()
	flushList()
	// Every piece of text went through renderInline, which escapes it.
	return template.HTML(b.String())
}

// renderInline renders one paragraph's inline Markdown, escaping all text.
func renderInline(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '`':
			if end := strings.IndexByte(s[1:], '`'); end >= 0 {
				b.WriteString("<code>" + html.EscapeString(s[1:1+end]) + "</code>")
				s = s[end+2:]
				continue
			}
		case strings.HasPrefix(s, "**"):
			if end := strings.Index(s[2:], "**"); end > 0 {
				b.WriteString("<strong>" + renderInline(s[2:2+end]) + "</strong>")
				s = s[end+4:]
				continue
			}
		case s[0] == '[':
			if mid := strings.Index(s, "]("); mid > 0 {
				if end := strings.IndexByte(s[mid+2:], ')'); end >= 0 {
					text, href := s[1:mid], s[mid+2:mid+2+end]
					if safeHref(href) {
						b.WriteString(`<a href="` + html.EscapeString(href) + `">` + renderInline(text) + "</a>")
					} else {
						b.WriteString(renderInline(text))
					}
					s = s[mid+3+end:]
					continue
				}
			}
		}
		// Plain text up to the next character that may start markup; an
		// unmatched one is written as it is, escaped.
		n := 1 + strings.IndexAny(s[1:], "`*[")
		if n == 0 {
			n = len(s)
		}
		b.WriteString(html.EscapeString(s[:n]))
		s = s[n:]
	}
	return b.String()
}

// safeHref accepts web links and links within this server, never
// javascript: or data: URLs.
func safeHref(h string) bool {
	if strings.ContainsAny(h, " \"'<>\\") {
		return false
	}
	lower := strings.ToLower(h)
	return strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") ||
		strings.HasPrefix(h, "#") || (strings.HasPrefix(h, "/") && !strings.HasPrefix(h, "//"))
}
