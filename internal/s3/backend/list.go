package backend

import (
	"sort"
	"strings"
)

// Page applies q's After, Delimiter and MaxKeys to keys, which must be
// sorted and all start with q.Prefix. It returns the keys to list as
// objects and the common prefixes, together at most q.MaxKeys.
func Page(keys []string, q ListQuery) (objects, prefixes []string, truncated bool, next string) {
	start := sort.SearchStrings(keys, q.After)
	if start < len(keys) && keys[start] == q.After {
		start++
	}
	skip := ""
	if q.After != "" && isCommonPrefix(q.After, q.Prefix, q.Delimiter) {
		skip = q.After
	}
	count, last := 0, ""
	for _, k := range keys[start:] {
		if skip != "" && strings.HasPrefix(k, skip) {
			continue
		}
		entry, isPrefix := k, false
		if cp, ok := commonPrefix(k, q.Prefix, q.Delimiter); ok {
			if cp == last {
				continue
			}
			entry, isPrefix = cp, true
		}
		if count >= q.MaxKeys {
			return objects, prefixes, true, next
		}
		if isPrefix {
			prefixes = append(prefixes, entry)
		} else {
			objects = append(objects, entry)
		}
		count, last, next = count+1, entry, entry
	}
	return objects, prefixes, false, next
}

// commonPrefix returns the part of key up to and including the first
// delimiter after prefix, if there is one.
func commonPrefix(key, prefix, delimiter string) (string, bool) {
	if delimiter == "" || !strings.HasPrefix(key, prefix) {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}

// isCommonPrefix reports whether s is itself a common prefix under prefix.
func isCommonPrefix(s, prefix, delimiter string) bool {
	cp, ok := commonPrefix(s, prefix, delimiter)
	return ok && cp == s
}
