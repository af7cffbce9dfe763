; What the workspace index records of a C++ file (lsp_server.workspace.outline).
; Captures: @def.<kind> the definition, @name its name (a qualified `A::f` makes A its
; container), @import an #include.
(function_definition declarator: (function_declarator declarator: [(identifier) (field_identifier) (qualified_identifier) (destructor_name) (operator_name)] @name)) @def.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (qualified_identifier)] @name))) @def.function
(function_definition declarator: (reference_declarator (function_declarator declarator: [(identifier) (qualified_identifier)] @name))) @def.function
(declaration declarator: (function_declarator declarator: [(identifier) (qualified_identifier)] @name)) @def.function
(field_declaration declarator: (function_declarator declarator: [(field_identifier) (destructor_name) (operator_name)] @name)) @def.method
(class_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @def.type
(type_definition declarator: (type_identifier) @name) @def.type
(alias_declaration name: (type_identifier) @name) @def.type
(field_declaration declarator: (field_identifier) @name) @def.field
(preproc_def name: (identifier) @name) @def.variable
(preproc_function_def name: (identifier) @name) @def.function
(preproc_include) @import
