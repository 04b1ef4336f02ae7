// Package grant is jit's pure decision core: the grant request, the policies
// that govern it, the problems found in them and the decisions made about
// them. It performs no I/O, reads no clock and imports only the standard
// library (make check-pure enforces this); the shell gathers inputs, calls in
// and acts on the values that come back.
package grant
