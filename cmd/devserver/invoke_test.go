package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInvokeCommand runs `devserver invoke` on the real binary: the result alone on stdout, the
// logs on stderr, and the exit status saying whether the function ran and how it ended.
func TestInvokeCommand(t *testing.T) {
	dir := withEcho(t, map[string]string{"broken/main.go": "package main\n\nfunc main() { nope() }\n"})
	eventFile := filepath.Join(t.TempDir(), "event.json")
	writeFile(t, eventFile, `{"from":"file"}`)
	report := regexp.MustCompile(`(?m)^\[(\w+)\] START RequestId: (\S+) Version: \$LATEST\n(?:.*\n)*\[(\w+)\] END RequestId: (\S+)\n\[\w+\] REPORT RequestId: \S+\tDuration: .*\tInit Duration: `)
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr []string
		logs   bool // START/END/REPORT on stderr
	}{
		{"sample", []string{"APIHandler"}, "", 0, sampleAnswer, []string{"building APIHandler"}, true},
		{"default event", []string{"Echo"}, "", 0, `{}`, []string{"[Echo] echo got {}"}, true},
		{"event file", []string{"Echo", "--event", eventFile}, "", 0, `{"from":"file"}`, nil, true},
		{"event on stdin", []string{"Echo", "--event", "-"}, `{"from":"stdin"}`, 0, `{"from":"stdin"}`, nil, true},
		{"function error", []string{"Echo", "--event", "-"}, `{"fail":true}`, 1, `{"errorMessage":"asked to fail","errorType":"errorString"}`,
			[]string{"devserver: invoke Echo: function error errorString"}, true},
		{"compile error", []string{"Broken"}, "", 2, "", []string{"main.go:3:15: undefined: nope"}, false},
		{"unknown function", []string{"Nope"}, "", 2, "", []string{"devserver: invoke Nope: no such function in config.yaml (it has APIHandler, Broken, Echo)"}, false},
		{"event file missing", []string{"Echo", "--event", filepath.Join(dir, "missing.json")}, "", 2, "", []string{"read event: open "}, false},
		{"event not JSON", []string{"Echo", "--event", "-"}, `{"from":`, 2, "", []string{"read event stdin: not JSON"}, false},
		{"no function", nil, "", 2, "", []string{"accepts 1 arg(s), received 0"}, false},
		{"unknown flag", []string{"Echo", "--payload", "{}"}, "", 2, "", []string{"unknown flag: --payload"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(devserverBin, append([]string{"invoke", "--project-dir", dir}, tt.args...)...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || stdout.String() != tt.stdout {
				t.Errorf("exit %d, stdout %q; want exit %d, stdout %q\nstderr:\n%s", code, stdout.String(), tt.code, tt.stdout, stderr.String())
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			m := report.FindStringSubmatch(stderr.String())
			if tt.logs != (m != nil) || m != nil && (m[2] != m[4] || m[1] != m[3]) {
				t.Errorf("stderr has START/END/REPORT of one cold invocation: %v, want %v:\n%s", m != nil, tt.logs, stderr.String())
			}
			// Only the function asked for is built: the broken one does not stop the others.
			if n := strings.Count(stderr.String(), "building "); tt.logs && n != 1 {
				t.Errorf("%d builds, want 1:\n%s", n, stderr.String())
			}
		})
	}
}
