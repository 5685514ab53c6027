// Package paginate cuts sorted result lists into MaxResults/NextToken pages
// as EC2's Describe actions do. Tokens are opaque to clients: the base64 of
// the last id returned, so a page is stable while resources come and go.
package paginate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
)

// Limits are an action's documented MaxResults bounds.
type Limits struct{ Min, Max int32 }

// ErrInvalidToken: the NextToken was not made by us.
var ErrInvalidToken = errors.New("invalid pagination token")

// RangeError: MaxResults is outside the action's bounds.
type RangeError struct {
	Value int32
	Limits
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", e.Value, e.Min, e.Max)
}

// Page returns the page of items (sorted by id here) after nextToken, at
// most maxResults long (all when maxResults is nil), and the token of the
// next page when more remain.
func Page[T any](items []T, id func(T) string, maxResults *int32, nextToken *string, lim Limits) ([]T, *string, error) {
	sort.SliceStable(items, func(i, j int) bool { return id(items[i]) < id(items[j]) })
	start := 0
	if nextToken != nil && *nextToken != "" {
		after, err := decode(*nextToken)
		if err != nil {
			return nil, nil, err
		}
		start = sort.Search(len(items), func(i int) bool { return id(items[i]) > after })
	}
	rest := items[start:]
	if maxResults == nil {
		return rest, nil, nil
	}
	n := *maxResults
	if n < lim.Min || n > lim.Max {
		return nil, nil, &RangeError{Value: n, Limits: lim}
	}
	if len(rest) <= int(n) {
		return rest, nil, nil
	}
	page := rest[:n]
	tok := encode(id(page[len(page)-1]))
	return page, &tok, nil
}

func encode(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastID))
}

func decode(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 3 || string(b[:3]) != "v1:" {
		return "", ErrInvalidToken
	}
	return string(b[3:]), nil
}
