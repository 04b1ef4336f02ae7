package grantschema

// Properties exposes properties to the tests.
var Properties = properties
