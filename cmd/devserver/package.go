package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newPackageCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "package OUT",
		Short: "Build deployment.zip and a SAM template into OUT",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("package: not available yet")
		},
	}
}
