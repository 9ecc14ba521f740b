package scenario

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// ResultLine is a scenario's line in the report: PASS or FAIL, its name,
// its file and how long it took; a failure adds an indented line saying
// which step failed and why. nameWidth pads names into a column.
func ResultLine(r Result, nameWidth int) string {
	verdict := "PASS"
	if !r.Passed() {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("%s  %-*s  %s  %s", verdict, nameWidth, r.Scenario.Name, r.Scenario.File, roundDuration(r.Duration))
	if !r.Passed() {
		line += "\n      " + strings.ReplaceAll(r.Failure, "\n", "\n      ")
	}
	return line
}

// Summary is the report's last line.
func Summary(results []Result, took time.Duration) string {
	failed := 0
	for _, r := range results {
		if !r.Passed() {
			failed++
		}
	}
	noun := "scenarios"
	if len(results) == 1 {
		noun = "scenario"
	}
	return fmt.Sprintf("%d %s: %d passed, %d failed (%s)", len(results), noun, len(results)-failed, failed, roundDuration(took))
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// JUnit XML, as CI systems and their report actions read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr"`
		Cases     []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the results as one JUnit test suite with a test case
// per scenario: its name, its file (and, as the class name, the file's
// name without extension), its time, the failure when it failed, and its
// step log as system-out.
func WriteJUnit(w io.Writer, results []Result, took time.Duration) error {
	suite := junitSuite{Name: "pushsim scenarios", Tests: len(results), Time: seconds(took)}
	var first time.Time
	for _, r := range results {
		if first.IsZero() || r.Started.Before(first) {
			first = r.Started
		}
		c := junitCase{
			Name:      r.Scenario.Name,
			Classname: strings.TrimSuffix(filepath.Base(r.Scenario.File), filepath.Ext(r.Scenario.File)),
			File:      filepath.ToSlash(r.Scenario.File),
			Time:      seconds(r.Duration),
			SystemOut: r.Log,
		}
		if !r.Passed() {
			suite.Failures++
			c.Failure = &junitFailure{Message: r.Failure, Type: "step failed", Text: r.Failure}
		}
		suite.Cases = append(suite.Cases, c)
	}
	if first.IsZero() {
		first = time.Now()
	}
	suite.Timestamp = first.UTC().Format("2006-01-02T15:04:05")
	doc := junitSuites{Name: "pushsim run", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
