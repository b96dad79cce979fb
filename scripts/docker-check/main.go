// docker-check reads the project's Docker files with the libraries Docker itself uses, without a Docker engine:
//
//	go run . compose ../../docker-compose.yml   compose-go, the loader of `docker compose`: the compose
//	                                            specification's schema, merge keys, ${VAR:?} and depends_on
//	go run . dockerfile ../../Dockerfile         BuildKit's Dockerfile parser and the build checks that run
//	                                            while parsing (`docker build --check`): unknown instructions
//	                                            or flags, casing, deprecated forms
//
// It prints what it read and exits 1 on the first problem.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func compose(file string) error {
	opts, err := cli.NewProjectOptions([]string{file}, cli.WithOsEnv, cli.WithName("livegive"))
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		s := project.Services[name]
		deps := []string{}
		for dep, d := range s.DependsOn {
			deps = append(deps, dep+":"+d.Condition)
		}
		sort.Strings(deps)
		fmt.Printf("%s healthcheck=%t depends_on=%v\n", name, s.HealthCheck != nil && len(s.HealthCheck.Test) > 0, deps)
	}
	return nil
}

func dockerfile(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return err
	}
	problems := []string{}
	for _, w := range res.Warnings {
		problems = append(problems, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("%s: %s (line %d)", rule, msg, line))
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d build check(s) failed:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	for _, s := range stages {
		fmt.Printf("stage %q from %s: %d instructions\n", s.Name, s.BaseName, len(s.Commands))
	}
	return nil
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "compose" && os.Args[1] != "dockerfile") {
		fmt.Fprintln(os.Stderr, "usage: docker-check compose <docker-compose.yml> | dockerfile <Dockerfile>")
		os.Exit(2)
	}
	check := compose
	if os.Args[1] == "dockerfile" {
		check = dockerfile
	}
	if err := check(os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "docker-check %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
