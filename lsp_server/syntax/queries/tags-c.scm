; What the workspace index records of a C file (lsp_server.workspace.outline).
; Captures: @def.<kind> the definition, @name its name, @import an #include.
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @def.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @def.function
(declaration declarator: (function_declarator declarator: (identifier) @name)) @def.function
(declaration declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @def.function
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @def.type
(type_definition declarator: (type_identifier) @name) @def.type
(field_declaration declarator: (field_identifier) @name) @def.field
(preproc_def name: (identifier) @name) @def.variable
(preproc_function_def name: (identifier) @name) @def.function
(translation_unit (declaration declarator: (init_declarator declarator: (identifier) @name)) @def.variable)
(translation_unit (declaration declarator: (identifier) @name) @def.variable)
(preproc_include) @import
