// Command gocron answers sync-window cases with robfig/cron v3 (the parser ESO 2.9 uses), so the
// Python tests can compare secretsync/reconcile/windows.py with the real thing.
//
// Input: one JSON case per line on stdin. Output: one JSON result per line on stdout, in order.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"time"

	cron "github.com/robfig/cron/v3"
)

type testCase struct {
	Schedule string `json:"schedule"`
	At       string `json:"at"`       // RFC 3339, UTC
	Duration string `json:"duration"` // Go duration
}

type result struct {
	Error  string `json:"error"`
	Next   string `json:"next"` // empty when robfig finds no firing
	Active bool   `json:"active"`
}

// ESO's parser: five fields, descriptors allowed.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func answer(c testCase) result {
	at, err := time.Parse(time.RFC3339Nano, c.At)
	if err != nil {
		return result{Error: err.Error()}
	}
	at = at.UTC()
	sched, err := parser.Parse(c.Schedule)
	if err != nil {
		return result{Error: err.Error()}
	}
	var r result
	if next := sched.Next(at); !next.IsZero() {
		r.Next = next.UTC().Format(time.RFC3339Nano)
	}
	if c.Duration != "" {
		duration, err := time.ParseDuration(c.Duration)
		if err != nil {
			return result{Error: err.Error()}
		}
		// ESO's isWithinSyncWindow.
		prev := sched.Next(at.Add(-duration - time.Second))
		r.Active = !prev.IsZero() && !prev.After(at) && !at.After(prev.Add(duration))
	}
	return r
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			_ = out.Encode(result{Error: err.Error()})
			continue
		}
		_ = out.Encode(answer(c))
	}
}
