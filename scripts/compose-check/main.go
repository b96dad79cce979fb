// compose-check loads a compose file with compose-go, the loader `docker compose` itself uses: the compose
// specification's JSON schema, merge keys, ${VAR:?} interpolation and depends_on are checked as Docker would,
// without a Docker engine. It prints each service with its health check and what it waits for.
//
//	go run . ../../docker-compose.yml
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func load(file string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{file}, cli.WithOsEnv, cli.WithName("livegive"))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <docker-compose.yml>")
		os.Exit(2)
	}
	project, err := load(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
		os.Exit(1)
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
}
