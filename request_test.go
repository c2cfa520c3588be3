package patchbay_test

import (
	"testing"

	"github.com/patchbay/patchbay"
)

func TestRequestFilterSetStatus(t *testing.T) {
	for _, tc := range []struct {
		in          string
		code, class int
		bad         bool
	}{
		{"", 0, 0, false}, {"404", 404, 0, false}, {"5xx", 0, 5, false}, {" 2XX ", 0, 2, false},
		{"6xx", 0, 0, true}, {"abc", 0, 0, true}, {"40", 0, 0, true}, {"4x4", 0, 0, true},
	} {
		f := patchbay.RequestFilter{StatusCode: 1, StatusClass: 1}
		err := f.SetStatus(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && (f.StatusCode != tc.code || f.StatusClass != tc.class)) {
			t.Errorf("SetStatus(%q) = %d %d %v", tc.in, f.StatusCode, f.StatusClass, err)
		}
	}
}
