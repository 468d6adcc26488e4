package mlops

import (
	"fmt"
	"sort"
	"strings"
)

// Columns are named feature columns, one []float64 per name, all as long: a table whose
// features are matched by name, as a DataFrame's are in the Python binding. A comparison or a
// monitor takes a profile's features from it by name, so the order of the columns never
// matters and extra ones are ignored.
type Columns map[string][]float64

// matrix copies the columns called names into one row-major slice (rows x len(names)). A
// missing column is ErrNotFound naming it; columns of different lengths are ErrInvalidArgument.
func (c Columns) matrix(names []string, what string) ([]float64, int, error) {
	var missing []string
	for _, n := range names {
		if _, ok := c[n]; !ok {
			missing = append(missing, fmt.Sprintf("%q", n))
		}
	}
	if len(missing) > 0 {
		return nil, 0, &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s: no column %s",
			what, strings.Join(missing, ", "))}
	}
	if len(names) == 0 {
		return nil, 0, &Error{Code: CodeInvalidArgument, Message: what + ": no columns"}
	}
	rows := len(c[names[0]])
	flat := make([]float64, rows*len(names))
	for j, n := range names {
		col := c[n]
		if len(col) != rows {
			return nil, 0, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(
				"%s: column %q has %d values, column %q has %d", what, n, len(col), names[0], rows)}
		}
		for i, v := range col {
			flat[i*len(names)+j] = v
		}
	}
	return flat, rows, nil
}

// BuildProfileColumns profiles the columns called names (nil: every column, in name order),
// each feature named after its column.
func BuildProfileColumns(cols Columns, names []string, opts *ProfileOptions) (*Profile, error) {
	if names == nil {
		for n := range cols {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	flat, rows, err := cols.matrix(names, "BuildProfileColumns")
	if err != nil {
		return nil, err
	}
	return buildProfile(flat, 64, rows, len(names), names, opts)
}

// CompareColumns compares profile p with its features taken from cols by name.
func CompareColumns(p *Profile, cols Columns, opts *CompareOptions) (*Report, error) {
	names := p.Names()
	flat, rows, err := cols.matrix(names, "CompareColumns")
	if err != nil {
		return nil, err
	}
	return compare(p, flat, 64, rows, len(names), opts)
}

// ObserveColumns is Observe with the profile's features taken from cols by name.
func (m *Monitor) ObserveColumns(cols Columns) error {
	flat, rows, err := cols.matrix(m.profile.Names(), "Monitor.ObserveColumns")
	if err != nil {
		return err
	}
	return observe(m, flat, 64, rows)
}
