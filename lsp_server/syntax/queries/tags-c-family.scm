; What the workspace index records of C and C++ alike (lsp_server.workspace.outline; read
; after tags-c.scm or tags-cpp.scm). Captures: @def.<kind> the definition, @name its name,
; @import an #include.
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @def.type
(type_definition declarator: (type_identifier) @name) @def.type
(field_declaration declarator: (field_identifier) @name) @def.field
(preproc_def name: (identifier) @name) @def.variable
(preproc_function_def name: (identifier) @name) @def.function
(preproc_include) @import
