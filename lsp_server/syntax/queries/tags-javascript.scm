; What the workspace index records of a JavaScript file beyond tags-ecmascript.scm.
(class_declaration name: (identifier) @name) @def.class
(field_definition property: (property_identifier) @name) @def.field
