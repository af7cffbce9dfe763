; What the workspace index records of a Go file (lsp_server.workspace.outline).
; Captures: @def.<kind> the definition, @name its name, @receiver a method's receiver type
; (its container), @package the package name, @import an import declaration.
(function_declaration name: (identifier) @name) @def.function
(method_declaration
  receiver: (parameter_list (parameter_declaration type: [(type_identifier) @receiver (pointer_type (type_identifier) @receiver)]))
  name: (field_identifier) @name) @def.method
(type_declaration (type_spec name: (type_identifier) @name type: [(struct_type) (interface_type)])) @def.class
(type_declaration (type_spec name: (type_identifier) @name)) @def.type
(type_declaration (type_alias name: (type_identifier) @name)) @def.type
(field_declaration name: (field_identifier) @name) @def.field
(method_elem name: (field_identifier) @name) @def.method
(source_file (const_declaration (const_spec name: (identifier) @name)) @def.variable)
(source_file (var_declaration (var_spec name: (identifier) @name)) @def.variable)
(package_clause (package_identifier) @package)
(import_declaration) @import
