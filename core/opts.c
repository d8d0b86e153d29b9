/* placeholder: implemented by the opts module work */
