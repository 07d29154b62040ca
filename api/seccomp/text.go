package seccomp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// The text policy format. Statements end with ";" or a newline; "#"
// starts a comment that runs to the end of the line.
//
//	default <action>                 the action for every other call
//	badarch <action>                 for calls of another ABI (default: kill_process)
//	<action> <call>... [if <cond> [&& <cond>]...]
//
// Actions: allow, log, errno <E...|n>, trap [n], trace [n], kill_thread,
// kill_process (or kill), notify (or user_notif). Calls are Linux names as
// in the ABI table, separated by spaces or commas; conditions apply to each
// of them. A condition compares an argument, arg0 to arg5:
//
//	arg1 == 5        also != < <= > >=
//	arg2 & O_CREAT   any of the bits set
//	arg2 & 3 == 1    masked equality
//
// Values are numbers (decimal, 0x hex, 0 octal, 0b binary, negative ones
// as 64-bit two's complement) or constants of the ABI table (O_CREAT,
// AT_FDCWD), joined with "|".

// ParseError reports a problem in a text policy, at the token that causes
// it.
type ParseError struct {
	Line, Col int    // 1-based position of Token
	Token     string // the offending token ("" at the end of input)
	Msg       string
}

func (e *ParseError) Error() string {
	tok := strconv.Quote(e.Token)
	if e.Token == "" {
		tok = "end of input"
	}
	return fmt.Sprintf("seccomp policy:%d:%d: %s: %s", e.Line, e.Col, e.Msg, tok)
}

// Unwrap makes errors.Is(err, api.EINVAL) hold.
func (e *ParseError) Unwrap() error { return api.EINVAL }

type token struct {
	s         string
	line, col int
	sep       bool // a statement separator: ";" or a newline
}

func tokenize(src string) ([]token, error) {
	var out []token
	line, col := 1, 1
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			out = append(out, token{s: "\n", line: line, col: col, sep: true})
			i++
			line++
			col = 1
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			col++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == ';':
			out = append(out, token{s: ";", line: line, col: col, sep: true})
			i++
			col++
			continue
		}
		j := i
		switch {
		case isWord(c):
			for j < len(src) && isWord(src[j]) {
				j++
			}
		case c == '-' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j++
			for j < len(src) && isWord(src[j]) {
				j++
			}
		case strings.HasPrefix(src[i:], "==") || strings.HasPrefix(src[i:], "!=") ||
			strings.HasPrefix(src[i:], "<=") || strings.HasPrefix(src[i:], ">=") || strings.HasPrefix(src[i:], "&&"):
			j += 2
		case strings.IndexByte("<>&|,", c) >= 0:
			j++
		default:
			return nil, &ParseError{Line: line, Col: col, Token: string(src[i]), Msg: "unexpected character"}
		}
		out = append(out, token{s: src[i:j], line: line, col: col})
		col += j - i
		i = j
	}
	return out, nil
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type parser struct {
	tg   *Target
	toks []token
	pos  int
	end  token
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return p.end
}

func (p *parser) next() token {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, format string, a ...any) error {
	return &ParseError{Line: t.line, Col: t.col, Token: strings.TrimSpace(t.s), Msg: fmt.Sprintf(format, a...)}
}

// atEnd reports whether the statement ends at the next token.
func (p *parser) atEnd() bool {
	t := p.peek()
	return t.sep || t.s == ""
}

// Parse reads a policy in the text format for tg's ABI: call names and
// constants are checked against its table, and errors name the offending
// token with its line and column (*ParseError).
func Parse(tg *Target, src string) (*Policy, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{tg: tg, toks: toks}
	if n := len(toks); n > 0 {
		last := toks[n-1]
		p.end = token{line: last.line, col: last.col + len(last.s)}
	} else {
		p.end = token{line: 1, col: 1}
	}
	pol := &Policy{}
	haveDefault := false
	for {
		for p.peek().sep {
			p.next()
		}
		t := p.peek()
		if t.s == "" {
			break
		}
		switch strings.ToLower(t.s) {
		case "default", "badarch":
			p.next()
			a, err := p.action()
			if err != nil {
				return nil, err
			}
			if strings.EqualFold(t.s, "default") {
				if haveDefault {
					return nil, p.errAt(t, "second default")
				}
				pol.Default, haveDefault = a, true
			} else {
				pol.BadArch, pol.BadArchSet = a, true
			}
		default:
			if err := p.rule(pol); err != nil {
				return nil, err
			}
		}
		if !p.atEnd() {
			return nil, p.errAt(p.peek(), "expected end of statement")
		}
	}
	if !haveDefault {
		return nil, &ParseError{Line: 1, Col: 1, Msg: "no default statement (e.g. \"default errno EPERM\")"}
	}
	return pol, nil
}

// action parses an action word and its argument.
func (p *parser) action() (Action, error) {
	t := p.next()
	switch strings.ToLower(t.s) {
	case "allow":
		return Allow, nil
	case "log":
		return Log, nil
	case "kill_thread":
		return KillThread, nil
	case "kill_process", "kill":
		return KillProcess, nil
	case "notify", "user_notif":
		return Notify, nil
	case "errno":
		a := p.next()
		e, ok := p.errno(a.s)
		if !ok {
			return Action{}, p.errAt(a, "unknown errno")
		}
		return Errno(e), nil
	case "trap", "trace":
		var data uint16
		if n := p.peek(); n.s != "" && n.s[0] >= '0' && n.s[0] <= '9' {
			p.next()
			v, err := strconv.ParseUint(n.s, 0, 16)
			if err != nil {
				return Action{}, p.errAt(n, "data must be a number 0..65535")
			}
			data = uint16(v)
		}
		if strings.EqualFold(t.s, "trap") {
			return Trap(data), nil
		}
		return Trace(data), nil
	case "":
		return Action{}, p.errAt(t, "expected an action")
	}
	return Action{}, p.errAt(t, "unknown action (want allow, errno, trap, log, trace, kill_thread, kill_process or notify)")
}

// errno accepts a name ("EPERM", any case; aliases such as EWOULDBLOCK
// through the table's constants) or a number in api's numbering.
func (p *parser) errno(s string) (api.Errno, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(s, 0, 16); err == nil {
		return api.Errno(n), true
	}
	u := strings.ToUpper(s)
	errnoNamesOnce.Do(initErrnoNames)
	if e, ok := errnoByName[u]; ok {
		return e, true
	}
	if u[0] == 'E' {
		if v, ok := p.tg.table.Const(u); ok {
			if _, isErrno := p.tg.table.ErrnoByName(p.tg.errnoFromABI(uintptr(v)).Name()); isErrno {
				return p.tg.errnoFromABI(uintptr(v)), true
			}
		}
	}
	return 0, false
}

// rule parses "<action> <call>... [if <cond> && ...]".
func (p *parser) rule(pol *Policy) error {
	a, err := p.action()
	if err != nil {
		return err
	}
	var calls []string
	for !p.atEnd() && !strings.EqualFold(p.peek().s, "if") {
		t := p.next()
		if t.s == "," {
			continue
		}
		if _, ok := p.tg.table.Syscall(t.s); !ok {
			return p.errAt(t, "unknown syscall in the %s/%s ABI", p.tg.table.OS, p.tg.table.Arch)
		}
		calls = append(calls, t.s)
	}
	if len(calls) == 0 {
		return p.errAt(p.peek(), "expected a syscall name")
	}
	var conds []Cond
	if strings.EqualFold(p.peek().s, "if") {
		p.next()
		for {
			c, err := p.cond()
			if err != nil {
				return err
			}
			conds = append(conds, c)
			if t := p.peek(); t.s == "&&" || strings.EqualFold(t.s, "and") {
				p.next()
				continue
			}
			break
		}
	}
	for _, c := range calls {
		pol.Rules = append(pol.Rules, Rule{Syscall: c, Action: a, Conds: append([]Cond(nil), conds...)})
	}
	return nil
}

// cond parses "argN <op> value", "argN & mask" or "argN & mask == value".
func (p *parser) cond() (Cond, error) {
	t := p.next()
	l := strings.ToLower(t.s)
	if len(l) != 4 || !strings.HasPrefix(l, "arg") || l[3] < '0' || l[3] > '5' {
		return Cond{}, p.errAt(t, "expected an argument arg0..arg5")
	}
	c := Cond{Arg: int(l[3] - '0')}
	o := p.next()
	switch o.s {
	case "==":
		c.Op = EQ
	case "!=":
		c.Op = NE
	case "<":
		c.Op = LT
	case "<=":
		c.Op = LE
	case ">":
		c.Op = GT
	case ">=":
		c.Op = GE
	case "&":
		m, err := p.value()
		if err != nil {
			return Cond{}, err
		}
		c.Mask = m
		if p.peek().s == "==" {
			p.next()
			v, err := p.value()
			if err != nil {
				return Cond{}, err
			}
			c.Op, c.Value = MaskedEQ, v
		} else {
			c.Op = MaskedAny
		}
		return c, nil
	default:
		return Cond{}, p.errAt(o, "expected a comparison (== != < <= > >= &)")
	}
	v, err := p.value()
	if err != nil {
		return Cond{}, err
	}
	c.Value = v
	return c, nil
}

// value parses numbers and table constants joined by "|".
func (p *parser) value() (uint64, error) {
	var v uint64
	for {
		t := p.next()
		x, err := p.term(t)
		if err != nil {
			return 0, err
		}
		v |= x
		if p.peek().s != "|" {
			return v, nil
		}
		p.next()
	}
}

func (p *parser) term(t token) (uint64, error) {
	s := t.s
	if s == "" || t.sep {
		return 0, p.errAt(t, "expected a value")
	}
	if s[0] == '-' || s[0] >= '0' && s[0] <= '9' {
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			return uint64(n), nil
		}
		if n, err := strconv.ParseUint(s, 0, 64); err == nil && s[0] != '-' {
			return n, nil
		}
		return 0, p.errAt(t, "bad number")
	}
	if v, ok := p.tg.table.Const(s); ok {
		return v, nil
	}
	return 0, p.errAt(t, "unknown constant in the %s/%s ABI", p.tg.table.OS, p.tg.table.Arch)
}
