; What the workspace index records of a Rust file (lsp_server.workspace.outline).
; Captures: @def.<kind> the definition, @name its name, @receiver an impl's type (its
; methods' container), @import a `use` or a `mod x;` without a body.
(impl_item type: [(type_identifier) @receiver (generic_type type: (type_identifier) @receiver)]
  body: (declaration_list (function_item name: (identifier) @name) @def.method))
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.method
(struct_item name: (type_identifier) @name) @def.class
(enum_item name: (type_identifier) @name) @def.class
(union_item name: (type_identifier) @name) @def.class
(trait_item name: (type_identifier) @name) @def.class
(type_item name: (type_identifier) @name) @def.type
(const_item name: (identifier) @name) @def.variable
(static_item name: (identifier) @name) @def.variable
(macro_definition name: (identifier) @name) @def.function
(field_declaration name: (field_identifier) @name) @def.field
(mod_item name: (identifier) @name body: (declaration_list)) @def.module
(use_declaration) @import
(mod_item !body) @import
