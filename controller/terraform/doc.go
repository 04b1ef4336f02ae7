// Package terraform runs the terraform binary through terraform-exec. It is the
// only package in jit that imports github.com/hashicorp/terraform-exec.
//
// It is an edge adapter: it knows how to find terraform, how to run one
// command in one working directory with a private CLI configuration, a
// timeout and a bounded retry on state-lock conflicts, and how to turn the
// outcome into errors that name the grant and the step. It knows nothing about
// grants, templates or backends beyond the directories and environment it is
// handed (see controller/provision for that).
package terraform
