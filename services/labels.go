package services

import (
	"strings"

	"github.com/containerd/containerd/v2/pkg/labels"
)

// CleanLabels applies containerd's label rules to l: a key and its value together take at most 4096
// bytes, else InvalidArgument; a label with an empty value is removed, as containerd stores none.
func CleanLabels(l map[string]string) error {
	for k, v := range l {
		if err := labels.Validate(k, v); err != nil {
			return err
		}
		if v == "" {
			delete(l, k)
		}
	}
	return nil
}

// LabelField is the value of the filter field path labels.<path> in l. A key may hold dots, so the
// rest of the path is joined back, as containerd does.
func LabelField(path []string, l map[string]string) (string, bool) {
	v, ok := l[strings.Join(path, ".")]
	return v, ok
}
