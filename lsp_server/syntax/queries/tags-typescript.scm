; What the workspace index records of a TypeScript (and TSX) file (lsp_server.workspace.outline).
; Captures: @def.<kind> the definition, @name its name, @import an import (or a top-level
; `require`, or an `export ... from`).
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(function_signature name: (identifier) @name) @def.function
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.class
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.type
(method_definition name: (property_identifier) @name) @def.method
(method_signature name: (property_identifier) @name) @def.method
(abstract_method_signature name: (property_identifier) @name) @def.method
(public_field_definition name: (property_identifier) @name) @def.field
(property_signature name: (property_identifier) @name) @def.field
(program (lexical_declaration (variable_declarator name: (identifier) @name)) @def.variable)
(program (variable_declaration (variable_declarator name: (identifier) @name)) @def.variable)
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name)) @def.variable)
(import_statement) @import
(export_statement source: (string)) @import
(program (lexical_declaration (variable_declarator value: (call_expression function: (identifier) @_req arguments: (arguments (string))))) @import
  (#eq? @_req "require"))
