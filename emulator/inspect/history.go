package inspect

import (
	"strings"
	"time"
)

// Build is one build or reload of the functions, as the emulator reports it after applying it.
type Build struct {
	ID   uint64    `json:"id"`
	Time time.Time `json:"time"`
	// Initial is set on the first build of `run`.
	Initial bool `json:"initial,omitempty"`
	// Changed are the files whose change set it off, relative to the project.
	Changed []string `json:"changed,omitempty"`
	// Rebuilt, Failed, Restarted and Removed are function names.
	Rebuilt   []string `json:"rebuilt,omitempty"`
	Failed    []string `json:"failed,omitempty"`
	Restarted []string `json:"restarted,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	// Errors are the build errors by function: the compiler's output, in full.
	Errors map[string]string `json:"errors,omitempty"`
	// Problem is what kept a change of the model from being served (an invalid config.yaml).
	Problem string `json:"problem,omitempty"`
	// Routes is the number of routes after a change of the model, 0 when the model is unchanged.
	Routes    int           `json:"routes,omitempty"`
	BuildTime time.Duration `json:"buildTime"`
	SwapTime  time.Duration `json:"swapTime"`
}

// Built adds b to the build history.
func (r *Recorder) Built(b Build) {
	if r == nil {
		return
	}
	// A compiler that prints without end must not grow the history without end.
	errs := make(map[string]string, len(b.Errors))
	for f, out := range b.Errors {
		if len(out) > r.limit {
			out = strings.Clone(out[:r.limit]) + "\n… (cut at the inspector's body limit)"
		}
		errs[f] = out
	}
	b.Errors = errs
	if len(b.Problem) > r.limit {
		b.Problem = strings.Clone(b.Problem[:r.limit])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buildSeq++
	b.ID = r.buildSeq
	if b.Time.IsZero() {
		b.Time = r.now()
	}
	if len(r.builds) == maxBuilds {
		r.builds = append(r.builds[:0:0], r.builds[1:]...)
	}
	r.builds = append(r.builds, b)
	r.publish(message{build: &b})
}

// Builds returns the build history, newest first.
func (r *Recorder) Builds() []Build {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buildsLocked()
}

func (r *Recorder) buildsLocked() []Build {
	out := make([]Build, len(r.builds))
	for i, b := range r.builds {
		out[len(out)-1-i] = b
	}
	return out
}
