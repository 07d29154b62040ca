package api

// nsState is the per-Kernel state of namespaces and mounts, filled in at New.
type nsState struct{}

func (*nsState) init(*Kernel) error { return nil }
