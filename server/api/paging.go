package api

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
)

// Page tokens are opaque to clients: a direction letter and a cursor.
const (
	tokenNext = "PN"
	tokenPrev = "PP"
)

func formatCursor(prefix string, seq int64) string {
	return prefix + strconv.FormatInt(seq, 36)
}

func parseCursor(prefix, token string) (int64, bool) {
	rest, found := strings.CutPrefix(token, prefix)
	if !found || rest == "" || len(rest) > 13 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 36, 64)
	// Base 36 reads "A", "0a" and "+a" as the issued "a" too.
	return n, err == nil && n > 0 && formatCursor(prefix, n) == token
}

// listRequest is the paging part of a list call.
type listRequest struct {
	page  store.Page
	index int // Page: client state, echoed
}

// parseList reads PageSize, Page and PageToken (or iOS's pageToken).
func parseList(v url.Values, descending bool) (listRequest, error) {
	lr := listRequest{page: store.Page{Size: 50, Descending: descending}}
	if s := v.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return lr, verify.InvalidParam("PageSize", "must be an integer from 1 to 1000")
		}
		lr.page.Size = n
	}
	if s := v.Get("Page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1_000_000 {
			return lr, verify.InvalidParam("Page", "must be a non-negative integer")
		}
		lr.index = n
	}
	token := v.Get("PageToken")
	if token == "" {
		token = v.Get("pageToken")
	}
	if token != "" {
		if seq, ok := parseCursor(tokenNext, token); ok {
			lr.page.After = seq
		} else if seq, ok := parseCursor(tokenPrev, token); ok {
			lr.page.Before = seq
		} else {
			return lr, verify.InvalidParam("PageToken", "is not a token this server issued")
		}
	}
	return lr, nil
}

// meta is the paging envelope of every list response.
type meta struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

// pageMeta builds the envelope. filters are the list's own query
// parameters, in the order they should appear in every link.
func pageMeta[T any](base, key string, filters [][2]string, lr listRequest, l store.Listed[T], token string) meta {
	link := func(page int, token string) string {
		q := make([]string, 0, len(filters)+3)
		for _, f := range filters {
			if f[1] != "" {
				q = append(q, url.QueryEscape(f[0])+"="+url.QueryEscape(f[1]))
			}
		}
		q = append(q, "PageSize="+strconv.Itoa(lr.page.Size), "Page="+strconv.Itoa(page))
		if token != "" {
			q = append(q, "PageToken="+url.QueryEscape(token))
		}
		return base + "?" + strings.Join(q, "&")
	}
	m := meta{Page: lr.index, PageSize: lr.page.Size, FirstPageURL: link(0, ""), URL: link(lr.index, token), Key: key}
	if l.HasNext && len(l.Items) > 0 {
		s := link(lr.index+1, formatCursor(tokenNext, l.Last))
		m.NextPageURL = &s
	}
	if l.HasPrev && len(l.Items) > 0 {
		s := link(max(lr.index-1, 0), formatCursor(tokenPrev, l.First))
		m.PreviousPageURL = &s
	}
	return m
}
