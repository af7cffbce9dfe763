; What the workspace index records of a Python file (lsp_server.workspace.outline).
; Captures: @def.<kind> the definition, @name its name, @import an import statement.
; Nesting is decided in Python: a definition inside a function is skipped, one inside a
; class becomes that class's member.
(function_definition name: (identifier) @name) @def.function
(class_definition name: (identifier) @name) @def.class
(module (expression_statement (assignment left: (identifier) @name)) @def.variable)
(class_definition body: (block (expression_statement (assignment left: (identifier) @name)) @def.field))
(import_statement) @import
(import_from_statement) @import
