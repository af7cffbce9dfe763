; What the workspace index records of JavaScript and TypeScript alike (lsp_server.workspace.outline;
; read before tags-javascript.scm or tags-typescript.scm). Captures: @def.<kind> the definition,
; @name its name, @import an import (or a top-level `require`, or an `export ... from`).
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(method_definition name: (property_identifier) @name) @def.method
(program (lexical_declaration (variable_declarator name: (identifier) @name)) @def.variable)
(program (variable_declaration (variable_declarator name: (identifier) @name)) @def.variable)
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name)) @def.variable)
(import_statement) @import
(export_statement source: (string)) @import
(program (lexical_declaration (variable_declarator value: (call_expression function: (identifier) @_req arguments: (arguments (string))))) @import
  (#eq? @_req "require"))
(program (variable_declaration (variable_declarator value: (call_expression function: (identifier) @_req arguments: (arguments (string))))) @import
  (#eq? @_req "require"))
