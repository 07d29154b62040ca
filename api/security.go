package api

// secState is the per-Kernel state of seccomp and capabilities, filled in
// at New. Everything in it is optional: an ABI without seccomp or
// capabilities (NetBSD) answers ENOSYS from those calls.
type secState struct {
	caps capState     // caps.go
	sc   seccompState // seccomp.go
}

func (s *secState) init(k *Kernel) error {
	if err := s.caps.init(k); err != nil {
		return err
	}
	return s.sc.init(k)
}

// secField names a field to resolve into p.
type secField struct {
	p    *fieldAt
	name string
}

// secStruct resolves an optional struct and its fields: ok is false when
// the ABI lacks it (the calls then answer ENOSYS); one larger than max or
// lacking a field is an error, since api would misread it.
func secStruct(k *Kernel, name string, max int, fields ...secField) (l layout, ok bool, err error) {
	l = k.optLayout(name)
	if l.s == nil {
		return layout{}, false, nil
	}
	if l.size > max {
		return layout{}, false, errMissing("a struct " + name + " that fits its buffer")
	}
	for _, f := range fields {
		if *f.p, err = l.must(f.name); err != nil {
			return layout{}, false, err
		}
	}
	return l, true, nil
}
