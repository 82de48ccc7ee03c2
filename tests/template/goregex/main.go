// Command goregex answers regexp cases with Go's own regexp package, so the Python tests can
// compare secretsync's RE2 wrapper (secretsync/goregexp) with the real thing.
//
// Input: one JSON case per line on stdin. Output: one JSON result per line on stdout, in order.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
)

type testCase struct {
	Pattern string `json:"pattern"`
	Text    string `json:"text"`
	Repl    string `json:"repl"`
	N       int    `json:"n"` // the n of FindAll and Split (-1: all)
}

type result struct {
	Error          string     `json:"error"`
	Match          bool       `json:"match"`
	Find           string     `json:"find"`
	FindAll        []string   `json:"findAll"`
	Submatch       [][]string `json:"submatch"`
	SubmatchIndex  [][]int    `json:"submatchIndex"`
	Replace        string     `json:"replace"`
	ReplaceLiteral string     `json:"replaceLiteral"`
	Split          []string   `json:"split"`
	SubexpNames    []string   `json:"subexpNames"`
	QuoteMeta      string     `json:"quoteMeta"`
}

func answer(c testCase) result {
	n := c.N
	out := result{QuoteMeta: regexp.QuoteMeta(c.Pattern)}
	re, err := regexp.Compile(c.Pattern)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Match = re.MatchString(c.Text)
	out.Find = re.FindString(c.Text)
	out.FindAll = re.FindAllString(c.Text, n)
	out.Submatch = re.FindAllStringSubmatch(c.Text, n)
	out.SubmatchIndex = re.FindAllStringSubmatchIndex(c.Text, n)
	out.Replace = re.ReplaceAllString(c.Text, c.Repl)
	out.ReplaceLiteral = re.ReplaceAllLiteralString(c.Text, c.Repl)
	out.Split = re.Split(c.Text, n)
	out.SubexpNames = re.SubexpNames()
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			os.Stderr.WriteString("bad case: " + err.Error() + "\n")
			os.Exit(2)
		}
		if err := out.Encode(answer(c)); err != nil {
			os.Exit(3)
		}
	}
	if err := in.Err(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
}
