package scan

import (
	"fmt"
	"time"
)

// ParseDate reads a --since or --until value: RFC 3339 (2026-01-31T08:00:00Z) or a day
// (2026-01-31, midnight UTC). For --until (end true) a day means the end of that day, so
// that --since 2026-01-01 --until 2026-01-31 covers all of January.
func ParseDate(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is no date (want YYYY-MM-DD or RFC 3339, like 2026-01-31T08:00:00Z)", s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
