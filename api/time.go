package api

import "time"

// Timespec is a time in seconds and nanoseconds, as the kernel keeps it.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// NsecToTimespec splits a count of nanoseconds.
func NsecToTimespec(ns int64) Timespec {
	s := ns / 1e9
	n := ns % 1e9
	if n < 0 {
		s--
		n += 1e9
	}
	return Timespec{Sec: s, Nsec: n}
}

// DurationToTimespec converts a duration.
func DurationToTimespec(d time.Duration) Timespec { return NsecToTimespec(int64(d)) }

// TimeToTimespec converts a wall-clock time.
func TimeToTimespec(t time.Time) Timespec {
	return Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// Nano returns the time as nanoseconds.
func (t Timespec) Nano() int64 { return t.Sec*1e9 + t.Nsec }

// Duration returns the time as a duration.
func (t Timespec) Duration() time.Duration { return time.Duration(t.Nano()) }

// Time returns the time as a wall-clock time.
func (t Timespec) Time() time.Time { return time.Unix(t.Sec, t.Nsec) }

// valid reports whether Nsec is in range, as the kernel requires.
func (t Timespec) valid() bool { return t.Nsec >= 0 && t.Nsec < 1e9 }
