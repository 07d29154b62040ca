package api

// bpfState is the per-Kernel state of BPF and perf events, filled in at New.
type bpfState struct{}

func (*bpfState) init(*Kernel) error { return nil }
