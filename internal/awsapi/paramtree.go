package awsapi

import (
	"net/url"
	"slices"
	"strings"
)

// maxKeyDepth bounds the dot-separated segments of a parameter name. No AWS
// input nests anywhere near this deep; deeper names are unknown parameters.
const maxKeyDepth = 32

// paramNode is one segment of the dotted parameter names of a request:
// "Filter.1.Name" is the path Filter → 1 → Name. The decoder walks the tree
// along the input struct and marks what it consumes, so that whatever is
// left over is reported as an unknown parameter.
type paramNode struct {
	value    *string
	children map[string]*paramNode
	used     bool
}

// paramTree holds a request's parameters as a tree, remembering each name.
type paramTree struct {
	root  *paramNode
	names []string              // sorted parameter names
	nodes map[string]*paramNode // name → node; nil for names too deep
}

// newParamTree builds the tree of params, leaving out the names that skip
// reports as not part of the operation's input.
func newParamTree(params url.Values, skip func(string) bool) *paramTree {
	t := &paramTree{root: &paramNode{}, nodes: make(map[string]*paramNode, len(params))}
	for name, values := range params {
		if skip(name) {
			continue
		}
		t.names = append(t.names, name)
		if strings.Count(name, ".") >= maxKeyDepth {
			t.nodes[name] = nil
			continue
		}
		n := t.root.descend(name)
		v := ""
		if len(values) > 0 {
			v = values[0]
		}
		n.value = &v
		t.nodes[name] = n
	}
	slices.Sort(t.names)
	return t
}

// descend returns the node at the dotted path, creating it as needed.
func (n *paramNode) descend(path string) *paramNode {
	for seg := range strings.SplitSeq(path, ".") {
		if n.children == nil {
			n.children = make(map[string]*paramNode)
		}
		c := n.children[seg]
		if c == nil {
			c = &paramNode{}
			n.children[seg] = c
		}
		n = c
	}
	return n
}

// child returns the named child, or nil.
func (n *paramNode) child(name string) *paramNode {
	if n == nil {
		return nil
	}
	return n.children[name]
}

// isEmptyMarker reports whether the node carries the empty value the SDKs
// send for an empty list, map or structure ("Name=").
func (n *paramNode) isEmptyMarker() bool {
	return n.value != nil && *n.value == ""
}

// markUsed marks n and everything below it as consumed.
func (n *paramNode) markUsed() {
	stack := []*paramNode{n}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		top.used = true
		for _, c := range top.children {
			stack = append(stack, c)
		}
	}
}

// firstUnused returns the first (sorted) parameter name the decoder did not
// consume.
func (t *paramTree) firstUnused() (string, bool) {
	for _, name := range t.names {
		if n := t.nodes[name]; n == nil || !n.used {
			return name, true
		}
	}
	return "", false
}
