package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// option is one setting of a subcommand: a flag, an environment variable
// REMPART_<NAME>, and a line "name = value" of the optional config file.
// Precedence: flag, then environment, then file, then default.
type option struct {
	name, def, help string
	value           *string
}

// options is a subcommand's settings, documented in one place: the table
// that builds its flags, its environment variables and its file keys.
type options struct {
	fs   *flag.FlagSet
	list []*option
	file *string
}

func newOptions(fs *flag.FlagSet) *options {
	o := &options{fs: fs}
	o.file = fs.String("config", os.Getenv("REMPART_CONFIG"), "optional config file of `name = value` lines (env REMPART_CONFIG)")
	return o
}

// add declares a setting and returns where its value will be.
func (o *options) add(name, def, help string) *string {
	opt := &option{name: name, def: def, help: help, value: new(string)}
	o.list = append(o.list, opt)
	o.fs.StringVar(opt.value, name, def, fmt.Sprintf("%s (env %s)", help, envName(name)))
	return opt.value
}

func envName(name string) string {
	return "REMPART_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parse parses args and applies environment and file values to the settings
// not given as flags.
func (o *options) parse(args []string) error {
	if err := o.fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	o.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	file := map[string]string{}
	if *o.file != "" {
		var err error
		if file, err = readConfigFile(*o.file); err != nil {
			return err
		}
	}
	known := map[string]*option{}
	for _, opt := range o.list {
		known[opt.name] = opt
	}
	keys := make([]string, 0, len(file))
	for k := range file {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if known[k] == nil {
			return fmt.Errorf("config file %s: unknown setting %q", *o.file, k)
		}
	}
	for _, opt := range o.list {
		if set[opt.name] {
			continue
		}
		if v, ok := os.LookupEnv(envName(opt.name)); ok {
			*opt.value = v
		} else if v, ok := file[opt.name]; ok {
			*opt.value = v
		}
	}
	return nil
}

func readConfigFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s line %d: want name = value", path, n)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out, sc.Err()
}
