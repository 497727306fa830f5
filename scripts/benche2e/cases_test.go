package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseExtra(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    []benchCase
		wantErr string
	}{
		{
			name:  "one",
			value: "dropmon-percpu=--readers per-cpu",
			want:  []benchCase{{name: "dropmon-percpu", kind: kindDropmon, args: []string{"--readers", "per-cpu"}}},
		},
		{
			name:  "two",
			value: "a=--readers one, b=--ring-size 4M --engine interp",
			want: []benchCase{
				{name: "a", kind: kindDropmon, args: []string{"--readers", "one"}},
				{name: "b", kind: kindDropmon, args: []string{"--ring-size", "4M", "--engine", "interp"}},
			},
		},
		{name: "no args", value: "plain=", want: []benchCase{{name: "plain", kind: kindDropmon, args: []string{}}}},
		{name: "no name", value: "=--readers one", wantErr: "one word"},
		{name: "no equals", value: "dropmon-x", wantErr: "name=dropmon arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExtra(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseExtra() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseExtra() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSelectCases(t *testing.T) {
	noBpftrace := func(name string) (string, error) {
		if name == "bpftrace" {
			return "", errors.New("not found")
		}
		return "/usr/bin/" + name, nil
	}
	tests := []struct {
		name      string
		list      string
		want      string
		wantNotes int
		wantErr   string
	}{
		{name: "all", want: "none, dropmon-jit, dropmon-interp, dropmon-kernel, dropmon-record, perf", wantNotes: 1},
		{name: "subset in order", list: "perf,none", want: "perf, none"},
		{name: "unknown", list: "none,strace", wantErr: `unknown case "strace"`},
		{name: "only missing", list: "bpftrace", wantErr: "no case", wantNotes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes, err := selectCases(builtinCases(), tt.list, noBpftrace)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("selectCases() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || caseNames(got) != tt.want || len(notes) != tt.wantNotes {
				t.Fatalf("selectCases() = %q, %q, %v, want %q with %d notes", caseNames(got), notes, err, tt.want, tt.wantNotes)
			}
		})
	}
}

func TestIntervalArg(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    time.Duration
		wantErr string
	}{
		{name: "default", args: "--engine jit", want: time.Second},
		{name: "short", args: "-i 500ms", want: 500 * time.Millisecond},
		{name: "short joined", args: "-i250ms", want: 250 * time.Millisecond},
		{name: "short equals", args: "-i=2s", want: 2 * time.Second},
		{name: "long", args: "--interval 3s --engine interp", want: 3 * time.Second},
		{name: "long equals", args: "--interval=4s", want: 4 * time.Second},
		{name: "last wins", args: "-i 2s --interval=5s", want: 5 * time.Second},
		{name: "other long flag", args: "--ring-size 4M", want: time.Second},
		{name: "missing value", args: "-i", wantErr: "without a value"},
		{name: "bad value", args: "-i fast", wantErr: "positive Go duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := intervalArg(strings.Fields(tt.args), time.Second)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("intervalArg() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("intervalArg() = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}
