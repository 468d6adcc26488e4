package mlops_test

import (
	"fmt"
	"reflect"
	"testing"

	mlops "libmlops/bindings/go"
)

// columns names the columns of an n x 4 row-major matrix after featureNames.
func columns(xs []float64) mlops.Columns {
	c := mlops.Columns{}
	for j, n := range featureNames {
		c[n] = column(xs, 4, j)
	}
	return c
}

// drifts(t)(mlops.Compare...(...)) are the report's features, closed after.
func drifts(t *testing.T) func(r *mlops.Report, err error) []mlops.FeatureDrift {
	return func(r *mlops.Report, err error) []mlops.FeatureDrift {
		t.Helper()
		check(t, err)
		defer r.Close()
		return r.Features
	}
}

func TestColumnsAreMatchedByName(t *testing.T) {
	ref, cur := normal(21, 500, [4]float64{}), normal(22, 300, [4]float64{0, 0, 0, 0.2})
	byName, err := mlops.BuildProfileColumns(columns(ref), featureNames, nil)
	check(t, err)
	defer byName.Close()
	if got := byName.Names(); !reflect.DeepEqual(got, featureNames) {
		t.Fatalf("names %v", got)
	}
	p, err := mlops.BuildProfileFlat(ref, 500, 4, featureNames, nil)
	check(t, err)
	defer p.Close()
	want := drifts(t)(mlops.Compare(p, cur, 300, 4, nil))

	extra := columns(cur)
	extra["unused"] = make([]float64, 300)
	// (Sprint: the statistics not computed are NaN, which DeepEqual never finds equal.)
	if got := drifts(t)(mlops.CompareColumns(byName, extra, nil)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("by name %+v, by position %+v", got, want)
	}
	delete(extra, "age")
	_, err = mlops.CompareColumns(p, extra, nil)
	wantErr(t, err, mlops.ErrNotFound, `"age"`)
	extra["age"] = make([]float64, 299)
	_, err = mlops.CompareColumns(p, extra, nil)
	wantErr(t, err, mlops.ErrInvalidArgument, "299 values")

	// nil names: every column, in name order.
	all, err := mlops.BuildProfileColumns(columns(ref), nil, nil)
	check(t, err)
	defer all.Close()
	if got := all.Names(); !reflect.DeepEqual(got, []string{"age", "amount", "hour", "score"}) {
		t.Fatalf("names %v", got)
	}
	if got := drifts(t)(mlops.CompareColumns(all, columns(cur), nil)); len(got) != 4 || fmt.Sprint(got[1]) != fmt.Sprint(want[0]) {
		t.Fatalf("sorted profile %+v", got)
	}
}

func TestMonitorObservesColumnsByName(t *testing.T) {
	p, err := mlops.BuildProfileFlat(normal(23, 600, [4]float64{}), 600, 4, featureNames, nil)
	check(t, err)
	defer p.Close()
	var alerts [][]string
	m, err := mlops.NewMonitor(p, &mlops.MonitorOptions{WindowRows: 300,
		OnAlert: func(r *mlops.Report) { alerts = append(alerts, r.Drifted()) }})
	check(t, err)
	defer m.Close()
	check(t, m.ObserveColumns(columns(normal(24, 300, [4]float64{}))))
	check(t, m.ObserveColumns(columns(normal(25, 300, [4]float64{0, 0, 3, 0}))))
	if c, _ := m.Counters(); c.Windows != 2 || len(alerts) != 1 || !reflect.DeepEqual(alerts[0], []string{"score"}) {
		t.Fatalf("counters %+v alerts %v", c, alerts)
	}
	wantErr(t, m.ObserveColumns(mlops.Columns{"amount": {1}}), mlops.ErrNotFound, `"age"`)
}
