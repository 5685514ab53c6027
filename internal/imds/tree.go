package imds

import "strings"

// node is a directory or a leaf of the metadata tree. A directory's listing
// is made from its children, so nothing is ever listed that cannot be read.
type node struct {
	leaf  []byte
	isDir bool
	names []string // children in listing order
	kids  map[string]*node
	label map[string]string // listing text when not the name, e.g. "0=keyname"
	bare  bool              // list subdirectories without the slash (a version's root, as AWS)
}

func newDir() *node { return &node{isDir: true, kids: map[string]*node{}} }

// put adds kid under name. A name that no path could reach (empty, or with
// a slash or a line break) is not added, so it is never listed.
func (n *node) put(name string, kid *node) *node {
	if name == "" || strings.ContainsAny(name, "/\r\n") {
		return kid
	}
	if _, ok := n.kids[name]; !ok {
		n.names = append(n.names, name)
	}
	n.kids[name] = kid
	return kid
}

// file adds a leaf; lines are joined by newlines, with none at the end.
func (n *node) file(name string, lines ...string) {
	n.blob(name, []byte(strings.Join(lines, "\n")))
}

// blob adds a leaf holding b as is.
func (n *node) blob(name string, b []byte) { n.put(name, &node{leaf: b}) }

func (n *node) dir(name string) *node { return n.put(name, newDir()) }

// setLabel lists name as text (one line) instead of its name.
func (n *node) setLabel(name, text string) {
	if n.label == nil {
		n.label = map[string]string{}
	}
	n.label[name] = strings.NewReplacer("\r", "", "\n", "").Replace(text)
}

// listing is what GET of a directory answers: one name per line,
// subdirectories with a trailing slash.
func (n *node) listing() []byte {
	lines := make([]string, 0, len(n.names))
	for _, name := range n.names {
		switch {
		case n.label[name] != "":
			lines = append(lines, n.label[name])
		case n.kids[name].isDir && !n.bare:
			lines = append(lines, name+"/")
		default:
			lines = append(lines, name)
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// walk follows path segments from n; nil when there is no such node.
func (n *node) walk(segs []string) *node {
	for _, s := range segs {
		if n == nil || !n.isDir {
			return nil
		}
		n = n.kids[s]
	}
	return n
}
