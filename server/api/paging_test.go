package api

import (
	"net/url"
	"testing"

	"github.com/pushsim/pushsim/server/store"
)

func TestPageMetaLinks(t *testing.T) {
	lr, err := parseList(url.Values{"PageSize": {"2"}, "Page": {"1"}, "PageToken": {formatCursor(tokenNext, 7)}}, false)
	if err != nil || lr.page.After != 7 || lr.index != 1 || lr.page.Size != 2 {
		t.Fatalf("parseList: %+v %v", lr, err)
	}
	l := store.Listed[int]{Items: []int{1, 2}, First: 8, Last: 9, HasNext: true, HasPrev: true}
	m := pageMeta("http://h/v2/X", "things", [][2]string{{"FactorSid", "YF1"}, {"Status", ""}}, lr, l, "PN7")
	if m.FirstPageURL != "http://h/v2/X?FactorSid=YF1&PageSize=2&Page=0" ||
		m.URL != "http://h/v2/X?FactorSid=YF1&PageSize=2&Page=1&PageToken=PN7" ||
		*m.NextPageURL != "http://h/v2/X?FactorSid=YF1&PageSize=2&Page=2&PageToken=PN9" ||
		*m.PreviousPageURL != "http://h/v2/X?FactorSid=YF1&PageSize=2&Page=0&PageToken=PP8" || m.Key != "things" {
		t.Fatalf("meta: %+v next=%s prev=%s", m, *m.NextPageURL, *m.PreviousPageURL)
	}
	// iOS spells it pageToken.
	if lr, err := parseList(url.Values{"pageToken": {formatCursor(tokenPrev, 3)}}, true); err != nil || lr.page.Before != 3 || !lr.page.Descending {
		t.Fatalf("pageToken: %+v %v", lr, err)
	}
	for _, bad := range []url.Values{{"PageSize": {"0"}}, {"PageSize": {"1001"}}, {"Page": {"-1"}}, {"PageToken": {"PNzzzzzzzzzzzzzzzz"}}, {"PageToken": {"nope"}},
		// The issued PNa, spelled in ways base 36 also reads as 10.
		{"PageToken": {"PNA"}}, {"PageToken": {"PN0a"}}, {"PageToken": {"PN+a"}}} {
		if _, err := parseList(bad, false); err == nil {
			t.Errorf("parseList(%v) accepted", bad)
		}
	}
}
