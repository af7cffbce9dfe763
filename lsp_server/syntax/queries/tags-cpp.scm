; What the workspace index records of a C++ file beyond tags-c-family.scm: functions and methods
; (a qualified `A::f` makes A its container), classes and aliases.
(function_definition declarator: (function_declarator declarator: [(identifier) (field_identifier) (qualified_identifier) (destructor_name) (operator_name)] @name)) @def.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (qualified_identifier)] @name))) @def.function
(function_definition declarator: (reference_declarator (function_declarator declarator: [(identifier) (qualified_identifier)] @name))) @def.function
(declaration declarator: (function_declarator declarator: [(identifier) (qualified_identifier)] @name)) @def.function
(field_declaration declarator: (function_declarator declarator: [(field_identifier) (destructor_name) (operator_name)] @name)) @def.method
(class_specifier name: (type_identifier) @name body: (field_declaration_list)) @def.class
(alias_declaration name: (type_identifier) @name) @def.type
