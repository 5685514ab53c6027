package paginate

import (
	"errors"
	"fmt"
	"testing"
)

func TestWalkAllPages(t *testing.T) {
	var items []string
	for i := 0; i < 23; i++ {
		items = append(items, fmt.Sprintf("sg-%02d", 22-i))
	}
	id := func(s string) string { return s }
	max := int32(5)
	var tok *string
	var seen []string
	for pages := 0; ; pages++ {
		page, next, err := Page(items, id, &max, tok, Limits{5, 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 5 {
			t.Fatalf("page of %d", len(page))
		}
		seen = append(seen, page...)
		if next == nil {
			break
		}
		tok = next
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 23 || seen[0] != "sg-00" || seen[22] != "sg-22" {
		t.Fatalf("walked %v", seen)
	}
}

func TestBoundsAndBadToken(t *testing.T) {
	id := func(s string) string { return s }
	small := int32(4)
	_, _, err := Page([]string{"a"}, id, &small, nil, Limits{5, 1000})
	var re *RangeError
	if !errors.As(err, &re) {
		t.Fatalf("MaxResults 4: got %v", err)
	}
	bad := "garbage!"
	if _, _, err := Page([]string{"a"}, id, nil, &bad, Limits{5, 1000}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("bad token: got %v", err)
	}
	all, next, err := Page([]string{"b", "a"}, id, nil, nil, Limits{5, 1000})
	if err != nil || next != nil || len(all) != 2 || all[0] != "a" {
		t.Fatalf("no MaxResults: %v %v %v", all, next, err)
	}
}
