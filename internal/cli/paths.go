package cli

import (
	"fmt"
	"path/filepath"
)

// absPaths makes each non-empty path absolute against the working
// directory at start-up, in place. Every role resolves its file and
// directory flags once, first: QEMU and the node want absolute paths (a
// run dir "data/node/…" is refused), and a path must not change meaning
// when something later runs in another directory.
func absPaths(paths map[string]*string) error {
	for flag, p := range paths {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("--%s %q: %w", flag, *p, err)
		}
		*p = abs
	}
	return nil
}
